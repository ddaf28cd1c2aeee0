/**
 * mvsec-client: what an IoT platform, a metaverse, a DPM provider, the demos and the tests use to
 * talk to a gateway — sign-in (password + TOTP, refresh), JSON or CBOR requests with problems as
 * `ApiProblem` errors, signed readings and reading sets, the WebSocket streams. It depends on
 * mvsec-protocol (the signed-reading format) and libraries only, never on the gateway's code.
 */
export { ApiProblem, isProblemType, problemOf, type Problem } from './problem.js';
export { CBOR_TYPE, decodeCbor, encodeCbor, JSON_TYPE, ok, request, STREAM_TYPE, type RequestOptions, type Res } from './http.js';
export {
  login,
  refresh,
  Session,
  TOTP_STEP_MS,
  totpCode,
  type Credentials,
  type LoginOptions,
  type SessionOptions,
  type Tokens,
} from './session.js';
export {
  newThingKey,
  readingSetRoot,
  signBytes,
  signedReadingSet,
  signReading,
  signReadingSet,
  ThingSigner,
  type Reading,
  type SignedReading,
  type SignedReadingSet,
} from './readings.js';
export {
  openAvatarStream,
  openEventStream,
  openStream,
  socketUrl,
  type AvatarStreamMessage,
  type EventStreamMessage,
  type Stream,
  type StreamClose,
  type StreamReading,
} from './stream.js';
