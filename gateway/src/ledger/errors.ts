/**
 * What the ledger layer throws, in the spirit of fabric-gateway's EndorseError / CommitError:
 *
 *  - LedgerRefusal          the chaincode refused, with its stable code (mvsec-protocol ERROR_CODES),
 *                           its reason in words and the transaction id when one was proposed;
 *  - LedgerUnavailable      no peer (or orderer) answered;
 *  - LedgerCommitInvalidated the transaction was ordered but invalidated at commit (MVCC, policy…);
 *  - LedgerFailure          anything else Fabric answered.
 *
 * The chaincode's coded messages are read here and nowhere else (`refusalIn`, `asLedgerError`).
 * The HTTP layer maps these classes to problems in one place (http/ledger-errors.ts).
 */
import { parseCodedReason, type ErrorCode } from 'mvsec-protocol';

export abstract class LedgerError extends Error {
  /** The transaction id, when the call had reached a proposal. */
  readonly txId?: string;
  constructor(message: string, txId?: string, options?: { cause?: unknown }) {
    super(message, options);
    if (txId) this.txId = txId;
  }
}

/** The chaincode refused: `code` is its stable code, `reason` its words (the message is `CODE: reason`). */
export class LedgerRefusal extends LedgerError {
  override readonly name = 'LedgerRefusal';
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    txId?: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${reason}`, txId, options);
  }
}

/** No peer or orderer answered (or none is configured for the caller's organisation). */
export class LedgerUnavailable extends LedgerError {
  override readonly name = 'LedgerUnavailable';
}

/** Ordered, but invalidated at commit; `validationCode` is Fabric's name of the code (MVCC_READ_CONFLICT, …). */
export class LedgerCommitInvalidated extends LedgerError {
  override readonly name = 'LedgerCommitInvalidated';
  constructor(
    message: string,
    override readonly txId: string,
    readonly validationCode: string,
  ) {
    super(message, txId);
  }
}

/** The caller's Fabric identity could not be had: its organisation's CA did not enrol it. */
export class IdentityUnavailable extends LedgerError {
  override readonly name = 'IdentityUnavailable';
}

/** The caller's organisation is not one this gateway serves (no peers, no CA for it). */
export class UnknownOrganisation extends LedgerError {
  override readonly name = 'UnknownOrganisation';
}

/** Fabric answered with an error that is neither a refusal nor unavailability. */
export class LedgerFailure extends LedgerError {
  override readonly name = 'LedgerFailure';
}

/** The chaincode's refusal inside a message as peers relay it (possibly wrapped in Fabric's text), if any. */
export function refusalIn(message: string, txId?: string, cause?: unknown): LedgerRefusal | undefined {
  const coded = parseCodedReason(message);
  return coded ? new LedgerRefusal(coded.code, coded.reason, txId, cause === undefined ? undefined : { cause }) : undefined;
}

/**
 * What any Ledger (the Fabric one, a test double) threw, typed: ledger errors as they are, a
 * message carrying the chaincode's coded reason as a LedgerRefusal, anything else unchanged.
 */
export function asLedgerError(e: unknown): unknown {
  if (e instanceof LedgerError) return e;
  const message = (e as Error | undefined)?.message;
  return (typeof message === 'string' && refusalIn(message, undefined, e)) || e;
}

/** A refusal with this code (and, when given, a reason matching `reason`). */
export function isRefusal(e: unknown, code?: ErrorCode, reason?: RegExp): e is LedgerRefusal {
  return e instanceof LedgerRefusal && (code === undefined || e.code === code) && (reason === undefined || reason.test(e.reason));
}
