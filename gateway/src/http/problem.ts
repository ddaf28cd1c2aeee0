/**
 * Errors as RFC 9457 problem details. Every refusal the gateway sends goes through `ApiError`;
 * the chaincode's codes are mapped to HTTP status in exactly one place: `fromChaincode` (used by
 * http/ledger-errors.ts for the ledger layer's typed errors).
 */
import type { ErrorCode } from 'mvsec-protocol';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Field-level validation issues, when the request body or parameters were wrong. */
  errors?: { path: string; message: string }[];
  /** The chaincode's stable code (DENIED, INVALID, …) when the reason came from the ledger. */
  code?: string;
  /** Further members of a specific problem type (e.g. the ledger's deletion record on a 410). */
  [member: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export const PROBLEM_BASE = 'https://mvsec.dev/problems/';

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly detail: string,
    public readonly kind: string = slug(TITLES[status] ?? 'error'),
    public readonly extra: Partial<Pick<Problem, 'errors' | 'code'>> & {
      /** The ledger transaction this problem is about (a refused proposal); logged, not sent. */
      txId?: string;
      headers?: Record<string, string>;
      members?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  toProblem(): Problem {
    const p: Problem = { type: PROBLEM_BASE + this.kind, title: TITLES[this.status] ?? 'Error', status: this.status, detail: this.detail };
    if (this.extra.errors) p.errors = this.extra.errors;
    if (this.extra.code) p.code = this.extra.code;
    for (const [k, v] of Object.entries(this.extra.members ?? {})) if (!(k in p)) p[k] = v;
    return p;
  }
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** The chaincode's error codes (mvsec-protocol ERROR_CODES) and their HTTP status. */
export const CHAINCODE_STATUS: Record<ErrorCode, number> = {
  DENIED: 403,
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXPIRED: 410,
};
export type ChaincodeCode = ErrorCode;

/** The one mapping from a chaincode refusal to an HTTP problem (the refused transaction's id, when known, is kept on the error). */
export function fromChaincode(code: ChaincodeCode, reason: string, txId?: string): ApiError {
  const status = CHAINCODE_STATUS[code];
  return new ApiError(status, `${code}: ${reason}`, `ledger-${code.toLowerCase().replace('_', '-')}`, { code, ...(txId ? { txId } : {}) });
}
