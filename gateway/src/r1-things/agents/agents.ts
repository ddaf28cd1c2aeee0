/**
 * Agents (MISSION.md "Agents", ARCHITECTURE §4): gateway components acting for the things,
 * avatars or entities they serve, each with its own Fabric identity — role `<kind>-agent`,
 * principal = the agent id, enrolled at its organisation's CA on first use and sealed at rest like
 * every principal's — so the chaincode sees, and decides about, the agent itself (an agent acts on
 * a thing only while the thing's controller lists it among the thing's agents).
 *
 * A thing agent is the IoT gateway of constrained things (F4): it holds the IoT gateway's signing
 * key (generated here, sealed with the gateway's storage key; its public key is what the gateway
 * thing registers on the ledger), numbers and signs the readings its constrained things hand it,
 * and applies the collection policy it manages (which sensors it accepts). The signed readings go
 * through the same telemetry path as any other (verification, replay rule, Merkle batches).
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Caller } from '../../auth/principal.js';
import { seal, unseal, type Sealed } from '../../crypto/seal.js';
import type { RoleName } from '../../auth/schemas.js';

export const AGENT_KINDS = ['thing', 'avatar', 'entity', 'storage'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

export interface AgentRecord {
  agentId: string;
  kind: AgentKind;
  mspId: string;
  /** The things, avatars or entities it serves (ids). */
  serves: string[];
  /** Collection policy of a thing agent: the sensors it accepts (empty: any). */
  sensors: string[];
  createdBy: { principal: string; mspId: string };
  createdAt: string;
  /** A thing agent's signing key (the IoT gateway's), sealed; its public key as base64 DER SPKI. */
  signingKey?: Sealed;
  publicKey?: string;
  /** Last sequence number it signed, per served thing. */
  seq: Record<string, number>;
}

/** The agent as a principal: its own Fabric identity. */
export const agentCaller = (a: Pick<AgentRecord, 'agentId' | 'kind' | 'mspId'>): Caller => ({
  principal: a.agentId,
  mspId: a.mspId,
  role: `${a.kind}-agent` as RoleName,
  issuer: 'gateway-agent',
  amr: ['agent'],
});

export class AgentStore {
  private readonly agents = new Map<string, AgentRecord>();
  private readonly file?: string;
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    private readonly storageKey: Buffer,
    stateDir?: string,
  ) {
    if (stateDir) {
      const dir = join(stateDir, 'agents');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.file = join(dir, 'agents.json');
      if (existsSync(this.file))
        for (const a of JSON.parse(readFileSync(this.file, 'utf8')) as AgentRecord[]) this.agents.set(a.agentId, a);
    }
  }

  get(agentId: string): AgentRecord | undefined {
    return this.agents.get(agentId);
  }

  create(a: Omit<AgentRecord, 'signingKey' | 'publicKey' | 'seq'>): AgentRecord {
    const record: AgentRecord = { ...a, seq: {} };
    if (a.kind === 'thing') {
      const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      record.signingKey = seal(this.storageKey, k.privateKey.export({ format: 'pem', type: 'pkcs8' }), `agent/${a.agentId}`);
      record.publicKey = k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    }
    this.agents.set(a.agentId, record);
    this.save();
    return record;
  }

  signingKey(a: AgentRecord): KeyObject {
    let k = this.keys.get(a.agentId);
    if (!k) {
      if (!a.signingKey) throw new Error(`agent ${a.agentId} holds no signing key`);
      k = createPrivateKey(unseal(this.storageKey, a.signingKey, `agent/${a.agentId}`));
      this.keys.set(a.agentId, k);
    }
    return k;
  }

  /** Reserve `count` sequence numbers for a served thing (persisted before use: never reused). */
  reserve(a: AgentRecord, thingId: string, count: number): number {
    const first = (a.seq[thingId] ?? 0) + 1;
    a.seq[thingId] = first + count - 1;
    this.save();
    return first;
  }

  private save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.agents.values()]), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
