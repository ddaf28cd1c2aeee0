/** The live stream of an avatar (`/r1/avatars/{avatarId}/stream`, R1, X1): JSON text frames, server to subscriber. */
import type { Json } from './canonical-json';

/** A reading as subscribers receive it: its own signature, or its place in a signed set. */
export interface StreamReading {
  seq: number;
  time: string;
  sensor: string;
  value: Json;
  signature?: string;
  set?: { root: string; index: number };
}

/** A set-signed request's set, so the subscriber can check the signature itself. */
export interface StreamReadingSet {
  merkleRoot: string;
  leafCount: number;
  signature: string;
}

/** What an avatar's subscriber receives. */
export type AvatarStreamMessage =
  | { type: 'subscribed'; avatarId: string; thingId: string; metaverseId: string }
  | { type: 'readings'; avatarId: string; thingId: string; readings: StreamReading[]; set?: StreamReadingSet }
  | {
      type: 'anchored';
      avatarId: string;
      thingId: string;
      batchId: string;
      merkleRoot: string;
      txId: string;
      firstSeq: number;
      lastSeq: number;
    }
  /** The subscription ended (the grant or policy no longer allows it); the socket closes next. */
  | { type: 'closed'; avatarId: string; reason: string };
