/** The data-movement guard (R4): the ledger's CheckAccess for the caller, refusing with its reason. */
import type { AccessDecision } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { deniedByLedger } from '../http/ledger-errors.js';
import { ApiError } from '../http/problem.js';
import type { AccessQuestion } from '../ledger/access.js';
import type { LedgerClient } from '../ledger/client.js';

export async function guardAccess(ledger: LedgerClient, caller: Caller, q: AccessQuestion): Promise<AccessDecision> {
  const d = await ledger.access.check(caller, q);
  if (!d || typeof d.allowed !== 'boolean') throw new ApiError(502, 'CheckAccess gave no decision', 'bad-ledger-answer');
  if (!d.allowed) throw deniedByLedger(d.reason);
  return d;
}
