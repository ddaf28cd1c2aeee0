/** The transfer guard (R3, X3): only a CONSENTED, unexpired transfer bound to this fingerprint may execute. */
import type { Transfer } from 'mvsec-protocol';
import type { Caller } from '../auth/principal.js';
import { deniedByLedger } from '../http/ledger-errors.js';
import type { LedgerClient } from '../ledger/client.js';

export async function guardExecution(
  ledger: LedgerClient,
  caller: Caller,
  transferId: string,
  dataSha256: string,
  now: () => number,
): Promise<Transfer> {
  const t = await ledger.transfers.get(caller, transferId);
  if (t.status !== 'CONSENTED') {
    throw deniedByLedger(
      `transfer ${t.transferId} is ${t.status}; only a CONSENTED transfer (approved by both metaverses and the owner) may be executed`,
    );
  }
  if (Date.parse(t.expiresAt) <= now()) throw deniedByLedger(`transfer ${t.transferId} expired at ${t.expiresAt}`);
  if (t.dataSha256 !== dataSha256)
    throw deniedByLedger(`transfer ${t.transferId} is bound to data fingerprint ${t.dataSha256}, not ${dataSha256}`);
  return t;
}
