/**
 * The hash behind a content address: the name of a stored object is a hash of its stored
 * (encrypted) bytes, so anyone can check a blob without a key (`b3sum` or `sha256sum`). Which hash
 * is named by the object's format version in its header (format.ts): BLAKE3-256 for
 * A256GCM-STREAM-v2 (every object written since 2026-11-28), SHA-256 for A256GCM-STREAM-v1.
 *
 * Why BLAKE3: the write path makes three passes over every byte (the plaintext's SHA-256 — the
 * ledger's fingerprint, which stays SHA-256 —, AES-256-GCM, the address). On this machine SHA-256
 * runs at ~1.2 GB/s per core (SHA-NI) and the reference BLAKE3 at ~4.7 GB/s (SIMD), which took the
 * address pass from a quarter of the store's CPU time to a twentieth (docs/performance.md).
 */
import { Blake3Hasher } from '@napi-rs/blake-hash';
import { createHash } from 'node:crypto';

export type AddressAlgorithm = 'blake3' | 'sha256';

/** A streaming hash of stored bytes; `digest` gives the 64 hex digits of a content address. */
export interface AddressHasher {
  update(b: Buffer): void;
  digest(): string;
}

export function addressHasher(algorithm: AddressAlgorithm): AddressHasher {
  if (algorithm === 'sha256') {
    const h = createHash('sha256');
    return { update: (b) => void h.update(b), digest: () => h.digest('hex') };
  }
  const h = new Blake3Hasher();
  return { update: (b) => void h.update(b), digest: () => h.digest('hex') };
}
