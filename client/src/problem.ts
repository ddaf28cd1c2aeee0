/**
 * Refusals as errors: the gateway answers every refusal with an RFC 9457 problem
 * (application/problem+json or application/problem+cbor). `ApiProblem` carries it to the caller.
 */

/** The members of a problem the gateway sends (further members stay in `ApiProblem.problem`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The chaincode's stable code (DENIED, INVALID, NOT_FOUND, CONFLICT, EXPIRED) when the ledger decided. */
  code?: string;
  /** Field-level validation issues. */
  errors?: { path: string; message: string }[];
  [member: string]: unknown;
}

/** A request the gateway refused (any non-2xx answer), with its problem details. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  /** HTTP status. */
  readonly status: number;
  /** The problem type URI (`https://mvsec.dev/problems/<kind>`), or `about:blank` when the answer was not a problem. */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The chaincode's error code, when the refusal came from the ledger. */
  readonly code: string | undefined;
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(
    status: number,
    /** The whole problem as the gateway sent it. */
    readonly problem: Partial<Problem>,
    /** What was asked (`POST /r1/things`), for the message. */
    readonly what = '',
  ) {
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    super(`${what ? `${what}: ` : ''}${status}${detail ? ` ${detail}` : ''}`);
    this.status = status;
    this.type = typeof problem.type === 'string' ? problem.type : 'about:blank';
    this.title = typeof problem.title === 'string' ? problem.title : '';
    this.detail = detail;
    this.code = typeof problem.code === 'string' ? problem.code : undefined;
    this.errors = Array.isArray(problem.errors) ? problem.errors : undefined;
  }

  /** The last path segment of the problem type (`validation`, `forbidden`, `upgrade-required`…). */
  get kind(): string {
    return this.type.slice(this.type.lastIndexOf('/') + 1);
  }
}

/** Is `contentType` a problem representation (JSON or CBOR)? */
export const isProblemType = (contentType: string | null | undefined): boolean =>
  !!contentType && /^application\/problem\+(json|cbor)\b/i.test(contentType.trim());

/**
 * The `ApiProblem` of a refused answer: its parsed body when it is a problem (or any object with a
 * `detail`), otherwise a problem made from the status and the body's text.
 */
export function problemOf(status: number, body: unknown, what = ''): ApiProblem {
  if (body && typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array))
    return new ApiProblem(status, body as Partial<Problem>, what);
  const text = body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : body === undefined ? '' : String(body);
  return new ApiProblem(status, { status, detail: text.slice(0, 500) }, what);
}
