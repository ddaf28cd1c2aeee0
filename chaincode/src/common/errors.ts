/**
 * Error messages start with a stable code (mvsec-protocol's ERROR_CODES) so clients (the gateway)
 * can map them to HTTP status: DENIED → 403, INVALID → 400, NOT_FOUND → 404, CONFLICT → 409, EXPIRED → 410.
 */
import { codedMessage, type ErrorCode } from 'mvsec-protocol';

export type { ErrorCode };

export class LedgerError extends Error {
  constructor(
    public readonly code: ErrorCode,
    reason: string,
  ) {
    super(codedMessage(code, reason));
    this.name = 'LedgerError';
  }
}

export const denied = (reason: string): LedgerError => new LedgerError('DENIED', reason);
export const invalid = (reason: string): LedgerError => new LedgerError('INVALID', reason);
export const notFound = (reason: string): LedgerError => new LedgerError('NOT_FOUND', reason);
export const conflict = (reason: string): LedgerError => new LedgerError('CONFLICT', reason);
export const expired = (reason: string): LedgerError => new LedgerError('EXPIRED', reason);
