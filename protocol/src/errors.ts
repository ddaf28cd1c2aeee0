/**
 * The chaincode's refusals: every error message starts with a stable code and a colon, then the
 * reason in words ("DENIED: grant g-1 expired at …"). Peers relay the message; clients read the
 * code back with `parseCodedReason`.
 */
export const ERROR_CODES = ['DENIED', 'INVALID', 'NOT_FOUND', 'CONFLICT', 'EXPIRED'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The message the chaincode throws for `code` and `reason`. */
export const codedMessage = (code: ErrorCode, reason: string): string => `${code}: ${reason}`;

const CODED = new RegExp(`\\b(${ERROR_CODES.join('|')}): ([^\\n|]*)`);

/** The coded reason inside a message as peers relay it (possibly wrapped in Fabric's text), if any. */
export function parseCodedReason(message: string): { code: ErrorCode; reason: string } | undefined {
  const m = CODED.exec(message);
  return m ? { code: m[1] as ErrorCode, reason: m[2].trim() } : undefined;
}
