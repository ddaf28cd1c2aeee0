/** The evidence bundle: one JSON document, bytes in base64. */
import type { ProofStep } from 'mvsec-protocol';

export const BUNDLE_FORMAT = 'mvsec-evidence-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleBlock {
  number: number;
  /** true: the whole block as the peer stores it; false: header and metadata only (data removed) */
  full: boolean;
  /** base64 of the common.Block protobuf */
  block: string;
}

export interface ClaimedTx {
  txId: string;
  blockNumber: number;
  txIndex: number;
  /** why it is in the bundle: activity of the subject, or the anchor of a batch a proof names */
  role: 'activity' | 'batch-anchor';
  /** the activity records the audit contract returned for it (informational; the verifier re-derives from the write set) */
  activity?: unknown[];
}

export interface BundleProof {
  batchId: string;
  leafSha256: string;
  proof: ProofStep[];
  /** the transaction that anchored the batch (its write set holds the Merkle root) */
  anchorTxId: string;
  /** what data:VerifyInclusion answered at export time (informational) */
  chaincodeAnswer?: unknown;
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  version: number;
  createdAt: string;
  channel: string;
  chaincode: string;
  subject: { type: string; id: string };
  range: { from?: string; to?: string };
  /** the chaincode's endorsement policy as the exporter states it (the auditor may override it) */
  endorsementPolicy: string;
  ordererMspId: string;
  /** CA certificates from the channel configuration: a convenience, not a trust anchor */
  cas: { mspId: string; pem: string[]; source: string }[];
  transactions: ClaimedTx[];
  blocks: BundleBlock[];
  proofs: BundleProof[];
}

export function parseBundle(text: string): Bundle {
  const b = JSON.parse(text) as Bundle;
  if (b?.format !== BUNDLE_FORMAT) throw new Error(`not an evidence bundle (format ${JSON.stringify(b?.format)})`);
  if (b.version !== BUNDLE_VERSION) throw new Error(`unsupported bundle version ${b.version} (this verifier reads ${BUNDLE_VERSION})`);
  for (const k of ['transactions', 'blocks', 'proofs', 'cas'] as const)
    if (!Array.isArray(b[k])) throw new Error(`bundle.${k} is not a list`);
  return b;
}
