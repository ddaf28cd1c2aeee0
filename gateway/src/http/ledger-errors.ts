/**
 * The one mapping from the ledger layer's errors (ledger/errors.ts) to HTTP problems: a refusal
 * answers its code's status (CHAINCODE_STATUS) with the chaincode's reason and code; Fabric
 * unavailable 503 (a CA that cannot enrol the caller: 503 ca-unavailable; an organisation not served: 403), invalidated at commit 409, any other Fabric failure 502.
 */
import {
  IdentityUnavailable,
  LedgerCommitInvalidated,
  LedgerError,
  LedgerRefusal,
  LedgerUnavailable,
  UnknownOrganisation,
} from '../ledger/errors.js';
import { ApiError, fromChaincode } from './problem.js';

/** The problem a ledger error answers, or undefined for anything that is not one. */
export function ledgerProblem(e: unknown): ApiError | undefined {
  if (!(e instanceof LedgerError)) return undefined;
  if (e instanceof LedgerRefusal) return fromChaincode(e.code, e.reason, e.txId);
  if (e instanceof LedgerUnavailable) return new ApiError(503, e.message, 'fabric-unavailable');
  if (e instanceof IdentityUnavailable) return new ApiError(503, e.message, 'ca-unavailable');
  if (e instanceof UnknownOrganisation) return new ApiError(403, e.message, 'unknown-organisation');
  if (e instanceof LedgerCommitInvalidated) return new ApiError(409, e.message, 'commit-invalidated');
  return new ApiError(502, e.message, 'fabric-error');
}

/** Errors as problems where they leave a route: ledger errors mapped, everything else unchanged. */
export function asProblem(e: unknown): unknown {
  return ledgerProblem(e) ?? e;
}

/** A 403 from a guard decision (CheckAccess, a transfer's or thing's state) carrying the contract's reason. */
export const deniedByLedger = (reason: string) => fromChaincode('DENIED', reason);
