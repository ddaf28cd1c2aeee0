/**
 * mvsec-protocol/dpm: the DPM wire format (R6, X4) — the envelope (ECDH-ES to the recipient's
 * P-256 certificate key, HKDF-SHA256, AES-256-GCM, canonical CBOR, ES256 signature) and what it
 * carries (the job's inputs, the result, the worker's key registration). A subpath of its own, not
 * part of the package index, so the chaincode never loads cbor-x. The gateway and the DPM worker
 * both import it.
 */
export * from './envelope';
export * from './payload';
