/**
 * Offline verification of an evidence bundle. No network: only the bundle, the trust anchors (the
 * orgs' CA certificates the auditor obtained independently) and the endorsement policy.
 */
import { common } from '@hyperledger/fabric-protos';
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import { blockHeaderDer, blockHeaderHash } from './asn1.js';
import type { Bundle } from './bundle.js';
import {
  blockSignatures,
  decodeEnvelope,
  decodeIdentity,
  HEADER_TYPE_ENDORSER_TRANSACTION,
  ous,
  validationCodeName,
  validationFlags,
  type DecodedTx,
} from './fabric.js';
import { rootFromProof } from 'mvsec-protocol';
import { parsePolicy, satisfies, type Policy } from './policy.js';

export type Check =
  | 'bundle'
  | 'decode'
  | 'header-chain'
  | 'data-hash'
  | 'orderer-signature'
  | 'tx-id'
  | 'creator-signature'
  | 'endorsement-signature'
  | 'endorsement-policy'
  | 'validation-flag'
  | 'subject-binding'
  | 'time-range'
  | 'merkle-proof'
  | 'completeness';

export interface Failure {
  check: Check;
  block?: number;
  txIndex?: number;
  txId?: string;
  /** index of the orderer signature in the block's SIGNATURES metadata */
  signature?: number;
  /** index of the endorsement in the transaction's (first) action */
  endorsement?: number;
  /** index of the proof in bundle.proofs */
  proof?: number;
  message: string;
}

export interface Report {
  ok: boolean;
  failures: Failure[];
  warnings: string[];
  trustAnchors: 'auditor' | 'bundle';
  policy: string;
  /** every block of the range is in full, so every transaction of the subject in it was seen */
  complete: boolean;
  counts: {
    blocks: number;
    fullBlocks: number;
    links: number;
    ordererSignatures: number;
    transactions: number;
    endorsements: number;
    proofs: number;
  };
}

export type TrustAnchors = Map<string, X509Certificate[]>;

export interface VerifyOptions {
  /** MSP id → CA certificates the auditor trusts. Required unless trustBundleCas. */
  anchors?: TrustAnchors;
  /** use the bundle's own CA copies (convenience only: an operator who forged the bundle forged these too) */
  trustBundleCas?: boolean;
  /** endorsement policy to enforce (default: the one the bundle states) */
  policy?: string;
  /** MSP whose orderers sign blocks (default: the bundle's) */
  ordererMspId?: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

export function describe(f: Failure): string {
  const where = [
    f.block !== undefined ? `block ${f.block}` : '',
    f.txIndex !== undefined ? `tx ${f.txIndex}` : '',
    f.txId ? `(${f.txId})` : '',
    f.signature !== undefined ? `orderer signature ${f.signature}` : '',
    f.endorsement !== undefined ? `endorsement ${f.endorsement}` : '',
    f.proof !== undefined ? `proof ${f.proof}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${where ? `${where}: ` : ''}${f.check}: ${f.message}`;
}

/** Build trust anchors from PEM texts, each labelled with its MSP. */
export function anchorsFrom(entries: { mspId: string; pem: string }[]): TrustAnchors {
  const out: TrustAnchors = new Map();
  for (const e of entries) {
    const certs = splitPem(e.pem).map((p) => new X509Certificate(p));
    out.set(e.mspId, [...(out.get(e.mspId) ?? []), ...certs]);
  }
  return out;
}

export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Why `pem` (claimed by `mspId`) does not chain to that MSP's anchors with one of `ous` (undefined = it does). */
function identityProblem(
  anchors: TrustAnchors,
  mspId: string,
  pem: string,
  wantOus: string[],
): { cert?: X509Certificate; problem?: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    return { problem: `certificate of ${mspId} does not parse: ${(e as Error).message}` };
  }
  const cas = anchors.get(mspId);
  if (!cas?.length) return { cert, problem: `no trust anchor for ${mspId}` };
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey)))
    return { cert, problem: `certificate ${oneLine(cert.subject)} does not chain to the CA of ${mspId}` };
  const have = ous(cert);
  if (wantOus.length && !wantOus.some((o) => have.includes(o)))
    return { cert, problem: `certificate ${oneLine(cert.subject)} has OU ${have.join(',') || 'none'}, not ${wantOus.join(' or ')}` };
  return { cert };
}

const oneLine = (s: string) => s.split('\n').join(', ');

const ROLE_OUS: Record<string, string[]> = { peer: ['peer'], orderer: ['orderer'], admin: ['admin'], client: ['client'], member: [] };

export function verifyBundle(bundle: Bundle, options: VerifyOptions = {}): Report {
  const failures: Failure[] = [];
  const warnings: string[] = [];
  const fail = (f: Failure) => failures.push(f);
  const counts = { blocks: 0, fullBlocks: 0, links: 0, ordererSignatures: 0, transactions: 0, endorsements: 0, proofs: 0 };

  let anchors: TrustAnchors;
  if (options.anchors && options.anchors.size) anchors = options.anchors;
  else if (options.trustBundleCas) {
    anchors = anchorsFrom(bundle.cas.flatMap((c) => c.pem.map((pem) => ({ mspId: c.mspId, pem }))));
    warnings.push('trust anchors taken from the bundle itself: this proves internal consistency only, not that the orgs signed it');
  } else throw new Error('no trust anchors: give the orgs’ CA certificates (--ca MSP=file), or explicitly accept the bundle’s own copies');
  const policyText = options.policy ?? bundle.endorsementPolicy;
  let policy: Policy;
  try {
    policy = parsePolicy(policyText);
  } catch (e) {
    throw new Error(`endorsement policy: ${(e as Error).message}`, { cause: e });
  }
  const ordererMsp = options.ordererMspId ?? bundle.ordererMspId;

  // ---- blocks: decode, order, hash chain, data hash, orderer signatures
  const blocks = new Map<number, { block: common.Block; full: boolean }>();
  for (const b of bundle.blocks) {
    try {
      const block = common.Block.deserializeBinary(Buffer.from(b.block, 'base64'));
      const n = Number(block.getHeader()?.getNumber() ?? -1);
      if (n !== b.number) fail({ check: 'bundle', block: b.number, message: `entry says block ${b.number} but its header says ${n}` });
      if (blocks.has(n)) fail({ check: 'bundle', block: n, message: 'block appears twice' });
      blocks.set(n, { block, full: b.full });
    } catch (e) {
      fail({ check: 'decode', block: b.number, message: `block does not decode: ${(e as Error).message}` });
    }
  }
  const numbers = [...blocks.keys()].sort((a, b) => a - b);
  counts.blocks = numbers.length;
  for (let k = 1; k < numbers.length; k++) {
    if (numbers[k] !== numbers[k - 1] + 1)
      fail({
        check: 'header-chain',
        block: numbers[k],
        message: `blocks ${numbers[k - 1] + 1}..${numbers[k] - 1} are missing: the chain is broken`,
      });
  }
  for (const n of numbers) {
    const { block, full } = blocks.get(n)!;
    const h = block.getHeader()!;
    const prev = blocks.get(n - 1);
    if (prev) {
      const ph = prev.block.getHeader()!;
      const expected = blockHeaderHash(BigInt(n - 1), ph.getPreviousHash_asU8(), ph.getDataHash_asU8());
      counts.links++;
      if (!expected.equals(Buffer.from(h.getPreviousHash_asU8())))
        fail({
          check: 'header-chain',
          block: n,
          message: `previous_hash ${Buffer.from(h.getPreviousHash_asU8()).toString('hex')} is not the hash of block ${n - 1}'s header (${expected.toString('hex')})`,
        });
    }
    if (full) {
      counts.fullBlocks++;
      const data = block.getData()?.getDataList_asU8() ?? [];
      const digest = sha256(Buffer.concat(data));
      if (!digest.equals(Buffer.from(h.getDataHash_asU8())))
        fail({
          check: 'data-hash',
          block: n,
          message: `SHA-256 of the block's ${data.length} transactions is ${digest.toString('hex')}, the header says ${Buffer.from(h.getDataHash_asU8()).toString('hex')}`,
        });
    }
    verifyOrdererSignatures(n, block, anchors, ordererMsp, fail, counts);
  }

  // ---- claimed transactions
  const decodedByTxId = new Map<string, DecodedTx>();
  for (const claim of bundle.transactions) {
    const place = { block: claim.blockNumber, txIndex: claim.txIndex, txId: claim.txId };
    const entry = blocks.get(claim.blockNumber);
    if (!entry || !entry.full) {
      fail({ check: 'bundle', ...place, message: 'the block holding this transaction is not in the bundle in full' });
      continue;
    }
    const envelopes = entry.block.getData()?.getDataList_asU8() ?? [];
    if (claim.txIndex < 0 || claim.txIndex >= envelopes.length) {
      fail({ check: 'bundle', ...place, message: `the block has ${envelopes.length} transactions` });
      continue;
    }
    let tx: DecodedTx;
    try {
      tx = decodeEnvelope(claim.txIndex, envelopes[claim.txIndex]);
    } catch (e) {
      fail({ check: 'decode', ...place, message: `transaction does not decode: ${(e as Error).message}` });
      continue;
    }
    counts.transactions++;
    decodedByTxId.set(claim.txId, tx);
    verifyTransaction(tx, claim.txId, entry.block, place, anchors, policy, bundle, fail, counts);
    if (claim.role === 'activity') checkSubject(tx, bundle, place, fail);
  }

  // ---- completeness: in full blocks, no valid transaction of the subject is left unclaimed
  const claimed = new Set(bundle.transactions.map((t) => `${t.blockNumber}/${t.txIndex}`));
  for (const n of numbers) {
    const { block, full } = blocks.get(n)!;
    if (!full) continue;
    const flags = validationFlags(block);
    (block.getData()?.getDataList_asU8() ?? []).forEach((env, i) => {
      if (claimed.has(`${n}/${i}`) || flags[i] !== 0) return;
      let tx: DecodedTx;
      try {
        tx = decodeEnvelope(i, env);
      } catch {
        return; // not a transaction this verifier reads; the data hash already covers its bytes
      }
      if (subjectWrites(tx, bundle).length && inRange(tx, bundle))
        fail({
          check: 'completeness',
          block: n,
          txIndex: i,
          txId: tx.txId,
          message: `a valid transaction of ${bundle.subject.type} ${bundle.subject.id} is not listed in the bundle`,
        });
    });
  }

  // ---- Merkle proofs
  bundle.proofs.forEach((p, k) => {
    counts.proofs++;
    let root: string;
    try {
      root = rootFromProof(p.leafSha256, p.proof);
    } catch (e) {
      fail({ check: 'merkle-proof', proof: k, message: `batch ${p.batchId}: ${(e as Error).message}` });
      return;
    }
    const tx = decodedByTxId.get(p.anchorTxId);
    if (!tx) {
      fail({
        check: 'merkle-proof',
        proof: k,
        txId: p.anchorTxId,
        message: `batch ${p.batchId}: the anchoring transaction is not among the verified transactions`,
      });
      return;
    }
    const key = `\u0000batch\u0000${p.batchId}\u0000`;
    const write = tx.actions.flatMap((a) => a.writes).find((w) => w.namespace === bundle.chaincode && w.key === key && !w.isDelete);
    let anchored: string | undefined;
    try {
      anchored = write ? (JSON.parse(Buffer.from(write.value).toString('utf8')) as { merkleRoot?: string }).merkleRoot : undefined;
    } catch {
      anchored = undefined;
    }
    if (!anchored)
      fail({
        check: 'merkle-proof',
        proof: k,
        txId: p.anchorTxId,
        message: `batch ${p.batchId}: the anchoring transaction writes no Merkle root for it`,
      });
    else if (anchored !== root)
      fail({
        check: 'merkle-proof',
        proof: k,
        txId: p.anchorTxId,
        message: `batch ${p.batchId}: leaf ${p.leafSha256} with this proof gives root ${root}, the ledger anchored ${anchored}`,
      });
  });

  return {
    ok: failures.length === 0,
    failures,
    warnings,
    trustAnchors: options.anchors?.size ? 'auditor' : 'bundle',
    policy: policyText,
    complete: numbers.length > 0 && numbers.every((n) => blocks.get(n)!.full),
    counts,
  };
}

function verifyOrdererSignatures(
  n: number,
  block: common.Block,
  anchors: TrustAnchors,
  ordererMsp: string,
  fail: (f: Failure) => void,
  counts: Report['counts'],
): void {
  let sigs: ReturnType<typeof blockSignatures>;
  try {
    sigs = blockSignatures(block);
  } catch (e) {
    fail({ check: 'decode', block: n, message: `signature metadata does not decode: ${(e as Error).message}` });
    return;
  }
  if (n === 0) return; // the genesis block is not signed by the ordering service
  if (sigs.signatures.length === 0) {
    fail({ check: 'orderer-signature', block: n, message: 'the block carries no orderer signature' });
    return;
  }
  const h = block.getHeader()!;
  const headerDer = blockHeaderDer(BigInt(n), h.getPreviousHash_asU8(), h.getDataHash_asU8());
  sigs.signatures.forEach((s, i) => {
    counts.ordererSignatures++;
    const place = { check: 'orderer-signature' as const, block: n, signature: i };
    if (!s.signatureHeader.length) {
      fail({ ...place, message: 'signature by consenter id (BFT identifier header) is not supported by this verifier' });
      return;
    }
    let creator;
    try {
      creator = decodeIdentity(common.SignatureHeader.deserializeBinary(s.signatureHeader).getCreator_asU8());
    } catch (e) {
      fail({ ...place, message: `signature header does not decode: ${(e as Error).message}` });
      return;
    }
    if (creator.mspId !== ordererMsp) {
      fail({ ...place, message: `signed by ${creator.mspId}, not the orderer org ${ordererMsp}` });
      return;
    }
    const { cert, problem } = identityProblem(anchors, creator.mspId, creator.pem, ['orderer']);
    if (problem || !cert) {
      fail({ ...place, message: problem ?? 'no certificate' });
      return;
    }
    const signed = Buffer.concat([sigs.value, s.signatureHeader, headerDer]);
    if (!safeVerify(signed, cert, s.signature)) {
      fail({
        ...place,
        message: `ECDSA signature of ${oneLine(cert.subject)} over metadata value, signature header and block header does not verify`,
      });
      return;
    }
  });
}

function safeVerify(data: Uint8Array, cert: X509Certificate, signature: Uint8Array): boolean {
  try {
    return verifySignature('sha256', data, cert.publicKey, signature);
  } catch {
    return false;
  }
}

function verifyTransaction(
  tx: DecodedTx,
  claimedTxId: string,
  block: common.Block,
  place: { block: number; txIndex: number; txId: string },
  anchors: TrustAnchors,
  policy: Policy,
  bundle: Bundle,
  fail: (f: Failure) => void,
  counts: Report['counts'],
): void {
  // validation flag (written by the committing peer)
  const flags = validationFlags(block);
  const flag = flags[tx.index];
  if (flag === undefined) fail({ check: 'validation-flag', ...place, message: 'the block has no validation flag for this transaction' });
  else if (flag !== 0)
    fail({ check: 'validation-flag', ...place, message: `the transaction was invalidated at commit: ${validationCodeName(flag)}` });

  // transaction id = SHA-256(nonce || creator)
  if (tx.txId !== claimedTxId) fail({ check: 'tx-id', ...place, message: `the transaction in that place is ${tx.txId}` });
  const computed = sha256(Buffer.concat([tx.nonce, tx.creator.raw])).toString('hex');
  if (computed !== tx.txId) fail({ check: 'tx-id', ...place, message: `SHA-256(nonce || creator) is ${computed}, not the transaction id` });
  if (tx.channel !== bundle.channel)
    fail({ check: 'bundle', ...place, message: `transaction of channel ${tx.channel}, not ${bundle.channel}` });

  // creator signature over the payload
  const creator = identityProblem(anchors, tx.creator.mspId, tx.creator.pem, []);
  if (creator.problem || !creator.cert) fail({ check: 'creator-signature', ...place, message: `creator: ${creator.problem}` });
  else if (!safeVerify(tx.payload, creator.cert, tx.signature))
    fail({
      check: 'creator-signature',
      ...place,
      message: `signature of ${tx.creator.mspId} ${oneLine(creator.cert.subject)} over the payload does not verify`,
    });

  if (tx.type !== HEADER_TYPE_ENDORSER_TRANSACTION) {
    fail({ check: 'endorsement-policy', ...place, message: `not an endorser transaction (header type ${tx.type})` });
    return;
  }
  if (tx.actions.length === 0) fail({ check: 'endorsement-policy', ...place, message: 'the transaction has no action' });
  tx.actions.forEach((action) => {
    if (action.chaincode !== bundle.chaincode)
      fail({
        check: 'endorsement-policy',
        ...place,
        message: `action of chaincode ${action.chaincode}, the policy is ${bundle.chaincode}'s`,
      });
    const valid: { mspId: string; ous: string[] }[] = [];
    action.endorsements.forEach((e, k) => {
      counts.endorsements++;
      const where = { check: 'endorsement-signature' as const, ...place, endorsement: k };
      let id;
      try {
        id = decodeIdentity(e.endorser);
      } catch (err) {
        fail({ ...where, message: `endorser identity does not decode: ${(err as Error).message}` });
        return;
      }
      const { cert, problem } = identityProblem(anchors, id.mspId, id.pem, ['peer']);
      if (problem || !cert) {
        fail({ ...where, message: `endorser ${id.mspId}: ${problem}` });
        return;
      }
      if (!safeVerify(Buffer.concat([action.proposalResponsePayload, e.endorser]), cert, e.signature)) {
        fail({ ...where, message: `signature of ${id.mspId} peer ${oneLine(cert.subject)} over the proposal response does not verify` });
        return;
      }
      valid.push({ mspId: id.mspId, ous: ous(cert) });
    });
    const has = (mspId: string, role: string) =>
      valid.some((v) => v.mspId === mspId && (ROLE_OUS[role] ?? [role]).every((o) => v.ous.includes(o)));
    if (!satisfies(policy, has))
      fail({
        check: 'endorsement-policy',
        ...place,
        message: `valid endorsements by [${[...new Set(valid.map((v) => v.mspId))].join(', ')}] do not satisfy the policy`,
      });
  });
}

/** The transaction wrote an activity record of the bundle's subject, and its time is in the range. */
function checkSubject(
  tx: DecodedTx,
  bundle: Bundle,
  place: { block: number; txIndex: number; txId: string },
  fail: (f: Failure) => void,
): void {
  if (subjectWrites(tx, bundle).length === 0)
    fail({
      check: 'subject-binding',
      ...place,
      message: `the transaction writes no activity record of ${bundle.subject.type} ${bundle.subject.id}`,
    });
  const t = tx.timestamp?.getTime();
  const from = bundle.range.from ? Date.parse(bundle.range.from) : undefined;
  const to = bundle.range.to ? Date.parse(bundle.range.to) : undefined;
  if (t === undefined) fail({ check: 'time-range', ...place, message: 'the transaction has no timestamp' });
  else if ((from !== undefined && t < from) || (to !== undefined && t > to))
    fail({ check: 'time-range', ...place, message: `transaction time ${new Date(t).toISOString()} is outside the bundle's range` });
}

function subjectWrites(tx: DecodedTx, bundle: Bundle) {
  const prefix = `\u0000activity~subject\u0000${bundle.subject.type}\u0000${bundle.subject.id}\u0000`;
  return tx.actions.flatMap((a) => a.writes).filter((w) => w.namespace === bundle.chaincode && w.key.startsWith(prefix));
}

function inRange(tx: DecodedTx, bundle: Bundle): boolean {
  const t = tx.timestamp?.getTime();
  if (t === undefined) return true;
  return !(bundle.range.from && t < Date.parse(bundle.range.from)) && !(bundle.range.to && t > Date.parse(bundle.range.to));
}
