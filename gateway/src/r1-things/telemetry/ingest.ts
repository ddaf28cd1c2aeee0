/**
 * Ingest and verify (R1, F4, C2): before a reading is accepted, the thing is ACTIVE and the caller
 * may write it (the ledger decides), the seqs are above the thing's high-water mark (replay
 * refused), and the signature(s) verify with the key of the thing — or of its IoT gateway — the
 * ledger holds (re-read once on a miss: the key may have been rotated).
 */
import type { KeyObject } from 'node:crypto';
import type { Thing } from 'mvsec-protocol';
import { readingText } from 'mvsec-protocol';
import type { Caller } from '../../auth/principal.js';
import { deniedByLedger } from '../../http/ledger-errors.js';
import { ApiError } from '../../http/problem.js';
import type { ReadingSet, StoredReading } from './batches.js';
import type { TelemetryReads } from './ledger-reads.js';
import type { SeqStore } from './seq-store.js';
import { KeyFormatError, parsePublicKey } from './signature.js';
import { inactiveReason, type IncomingReading } from './types.js';
import { VerifyPool } from './verify-pool.js';

/** Readings that passed every check, ready to be accepted. */
export interface Verified {
  stored: StoredReading[];
  set?: ReadingSet;
  signer: string;
}

export class ReadingsVerifier {
  private readonly keys = new Map<string, { text: string; key: KeyObject }>();
  private pool?: VerifyPool;

  constructor(
    private readonly reads: TelemetryReads,
    private readonly seqs: SeqStore,
    private readonly verifyThreads?: number,
  ) {}

  /** The key that signs the thing's readings: its own (AUTONOMOUS) or its IoT gateway's (GATEWAY). */
  private async signerKey(caller: Caller, thing: Thing, fresh: boolean): Promise<{ key: KeyObject; signer: string }> {
    let signer = thing;
    if (thing.accessMode === 'GATEWAY') {
      if (!thing.gatewayId) throw new ApiError(422, `thing ${thing.thingId} is in GATEWAY mode without a gatewayId`, 'no-signing-key');
      signer = await this.reads.thing(caller, thing.gatewayId, fresh);
      if (signer.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(signer));
    }
    const cached = this.keys.get(signer.thingId);
    if (cached && cached.text === signer.publicKey) return { key: cached.key, signer: signer.thingId };
    try {
      const key = parsePublicKey(signer.publicKey);
      this.keys.set(signer.thingId, { text: signer.publicKey, key });
      return { key, signer: signer.thingId };
    } catch (e) {
      if (e instanceof KeyFormatError)
        throw new ApiError(422, `the ledger's publicKey of ${signer.thingId} cannot verify readings: ${e.message}`, 'no-signing-key');
      throw e;
    }
  }

  /** Every check, all readings of the request or none; the readings as they will be stored. */
  async verify(caller: Caller, thingId: string, readings: IncomingReading[], setSignature?: string): Promise<Verified> {
    const mixed =
      setSignature === undefined
        ? readings.findIndex((r) => r.signature === undefined)
        : readings.findIndex((r) => r.signature !== undefined);
    if (mixed >= 0)
      throw new ApiError(400, 'sign every reading (signature) or the whole set (setSignature), not both and not neither', 'validation', {
        errors: [
          {
            path: `body.readings.${mixed}.signature`,
            message: setSignature === undefined ? 'missing: the request has no setSignature' : 'not allowed with setSignature',
          },
        ],
      });
    let thing = await this.reads.thing(caller, thingId);
    if (thing.status !== 'ACTIVE') thing = await this.reads.thing(caller, thingId, true);
    if (thing.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(thing));
    const access = await this.reads.mayWrite(caller, thingId);
    if (!access.allowed) throw deniedByLedger(access.reason);

    // Replay rule, before spending CPU on signatures: strictly increasing within the request and above the high-water mark.
    this.checkSeqs(thingId, readings);

    // The signed texts; the pool hashes them (Merkle leaves) and verifies the signature(s).
    const texts = readings.map((r) => readingText({ thingId, seq: r.seq, time: r.time, sensor: r.sensor, value: r.value }));
    this.pool ??= new VerifyPool(this.verifyThreads);
    const pool = this.pool;
    const check = async (key: KeyObject) => {
      if (setSignature === undefined)
        return pool.verify(
          key,
          texts,
          readings.map((r) => r.signature!),
        );
      const v = await pool.verifySet(key, thingId, texts, setSignature);
      return { ok: [v.ok], leaves: v.leaves, root: v.root };
    };
    let { key, signer } = await this.signerKey(caller, thing, false);
    let verdict = await check(key);
    if (verdict.ok.includes(false)) {
      // Refresh on miss: the key may have been rotated on the ledger since it was cached.
      thing = await this.reads.thing(caller, thingId, true);
      if (thing.status !== 'ACTIVE') throw deniedByLedger(inactiveReason(thing));
      const again = await this.signerKey(caller, thing, true);
      if (again.key !== key) {
        ({ key, signer } = again);
        verdict = await check(key);
      }
    }
    const { ok: results, leaves } = verdict;
    if (setSignature !== undefined && !results[0])
      throw new ApiError(
        422,
        `the set signature does not verify with the key of ${signer} (ECDSA P-256/SHA-256 over the set of ${readings.length} readings: their Merkle root); nothing was accepted`,
        'invalid-signature',
        { errors: [{ path: 'body.setSignature', message: 'does not verify over these readings' }] },
      );
    const bad = setSignature === undefined ? readings.filter((_, i) => !results[i]) : [];
    if (bad.length)
      throw new ApiError(
        422,
        `${bad.length} of ${readings.length} readings have a signature that does not verify with the key of ${signer} (ECDSA P-256/SHA-256 over the canonical reading); nothing was accepted`,
        'invalid-signature',
        {
          errors: readings.flatMap((r, i) =>
            results[i] ? [] : [{ path: `body.readings.${i}.signature`, message: `seq ${r.seq}: signature does not verify` }],
          ),
        },
      );

    // Verification awaited: another request may have advanced the mark meanwhile.
    this.checkSeqs(thingId, readings);
    const root = 'root' in verdict ? verdict.root : undefined;
    const set: ReadingSet | undefined =
      setSignature !== undefined && root ? { merkleRoot: root, leafCount: readings.length, signature: setSignature, leaves } : undefined;
    const stored: StoredReading[] = readings.map((r, i) => ({
      seq: r.seq,
      time: r.time,
      sensor: r.sensor,
      value: r.value,
      ...(set ? { set: { root: set.merkleRoot, index: i } } : { signature: r.signature }),
      leaf: leaves[i],
    }));
    return { stored, ...(set ? { set } : {}), signer };
  }

  checkSeqs(thingId: string, readings: IncomingReading[]): void {
    const high = this.seqs.get(thingId);
    const errors: { path: string; message: string }[] = [];
    let prev = high;
    readings.forEach((r, i) => {
      if (r.seq <= prev)
        errors.push({
          path: `body.readings.${i}.seq`,
          message:
            r.seq <= high
              ? `seq ${r.seq} is not above ${high}, the highest seq already accepted for ${thingId} (replay)`
              : `seq ${r.seq} does not increase (previous ${prev})`,
        });
      prev = Math.max(prev, r.seq);
    });
    if (errors.length)
      throw new ApiError(
        409,
        `replay refused: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}; nothing was accepted`,
        'replay',
        {
          errors,
          code: 'CONFLICT',
          members: { highestSeq: high },
        },
      );
  }

  close(): void {
    void this.pool?.close();
    this.pool = undefined;
  }
}
