import type { Context } from 'fabric-contract-api';
import { ROLES } from 'mvsec-protocol';
import { ANY_MEMBER, DEFAULT_ROLE_ISSUERS, LIMITS, PEER_ORG_MSPS } from '../common/config';
import { invalid } from '../common/errors';
import { keys } from '../common/keys';
import { getRecord } from '../common/state';
import { assertId } from '../common/validation';
import type { RoleIssuer, RoleIssuers } from './governance-types';

/**
 * Trust rule 1: roles are bound to organisations. A role attribute is only as good as the CA that
 * issued it, so the ledger says which organisations may issue which roles (`settings~roles`,
 * changed by a majority of the peer organisations' admins, see governance-contract.ts); without a
 * record the defaults of common/config.ts hold.
 */

/** The table of common/config.ts as a record (version 0, source DEFAULT). */
export function defaultRoleIssuers(): RoleIssuers {
  return { docType: 'roleIssuers', version: 0, source: 'DEFAULT', issuers: tableOf(DEFAULT_ROLE_ISSUERS) };
}

/** The role issuers in force: the ledger record, or the defaults while there is none. */
export async function loadRoleIssuers(ctx: Context): Promise<RoleIssuers> {
  return (await getRecord<RoleIssuers>(ctx, keys.roleIssuers(ctx.stub))) ?? defaultRoleIssuers();
}

/** role → issuers ('*' = any member) as sorted entries, one per role of the protocol. */
export function tableOf(map: Readonly<Record<string, readonly string[]>>): RoleIssuer[] {
  return [...ROLES].sort().map((role) => {
    const list = map[role] ?? [];
    const anyMember = list.includes(ANY_MEMBER);
    return { role, anyMember, mspIds: anyMember ? [] : [...new Set(list)].sort() };
  });
}

/** role → issuers of a record ('*' for any member). */
export function mapOf(issuers: readonly RoleIssuer[]): Record<string, string[]> {
  return Object.fromEntries(issuers.map((e) => [e.role, e.anyMember ? [ANY_MEMBER] : [...e.mspIds]]));
}

/**
 * Why `mspId` may not issue `role` under `setting`, or undefined when it may. A role without an
 * entry is issued by no one (deny by default).
 */
export function roleRefusal(setting: RoleIssuers, role: string, mspId: string): string | undefined {
  const entry = setting.issuers.find((e) => e.role === role);
  if (entry && (entry.anyMember || entry.mspIds.includes(mspId))) return undefined;
  const who = entry && entry.mspIds.length > 0 ? `only ${entry.mspIds.join(', ')} may issue ${role}` : `no organisation may issue ${role}`;
  const where =
    setting.source === 'DEFAULT' ? 'ledger setting role issuers, defaults' : `ledger setting role issuers, version ${setting.version}`;
  return `role ${role} from ${mspId} is not recognised: ${who} (${where})`;
}

/**
 * The table a proposal sets: `current` with the roles named in `changes` replaced. Each value is
 * '*' (any member) or a list of MSP ids (possibly empty: no one). `admin` stays issuable by every
 * peer organisation, whose admins govern this setting.
 */
export function proposedTable(current: readonly RoleIssuer[], changes: unknown): RoleIssuer[] {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw invalid(`input.issuers: must be an object role → '*' or [mspId]`);
  }
  const entries = Object.entries(changes as Record<string, unknown>);
  if (entries.length === 0) throw invalid('input.issuers: names no role');
  const map = mapOf(current);
  for (const [role, value] of entries) {
    if (!(ROLES as readonly string[]).includes(role)) throw invalid(`input.issuers: unknown role "${role}" (one of ${ROLES.join(', ')})`);
    if (value === ANY_MEMBER) {
      map[role] = [ANY_MEMBER];
      continue;
    }
    if (!Array.isArray(value) || value.length > LIMITS.listLength) {
      throw invalid(`input.issuers.${role}: must be '*' or a list of at most ${LIMITS.listLength} MSP ids`);
    }
    map[role] = value.map((v, i) => (v === ANY_MEMBER ? ANY_MEMBER : assertId(`input.issuers.${role}[${i}]`, v)));
  }
  const table = tableOf(map);
  const admin = table.find((e) => e.role === 'admin');
  const missing = admin && !admin.anyMember ? PEER_ORG_MSPS.filter((m) => !admin.mspIds.includes(m)) : [];
  if (missing.length > 0) {
    throw invalid(
      `input.issuers.admin: every peer organisation's admins govern this setting; ${missing.join(', ')} must stay issuers of admin`,
    );
  }
  return table;
}

/** Two tables say the same. */
export function sameTable(a: readonly RoleIssuer[], b: readonly RoleIssuer[]): boolean {
  return JSON.stringify(tableOf(mapOf(a))) === JSON.stringify(tableOf(mapOf(b)));
}
