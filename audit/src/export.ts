/**
 * Export an evidence bundle for one subject: its transactions (from the audit contract's activity
 * log), the blocks holding them in full, every block header in between (so the hash chain is
 * continuous), the orgs' CA certificates from the channel configuration, and Merkle proofs.
 */
import type { Gateway } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle, type BundleBlock, type BundleProof, type ClaimedTx } from './bundle.js';
import { configMsps, decodeEnvelope, lastConfigIndex } from './fabric.js';
import type { ActivityPage, ActivityRecord, ProofStep } from 'mvsec-protocol';

export const DEFAULT_POLICY = "OutOf(2,'IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')";

export interface ProofInput {
  batchId: string;
  leafSha256: string;
  proof: ProofStep[];
}

export interface ExportOptions {
  gateway: Gateway;
  channel: string;
  chaincode: string;
  subject: { type: string; id: string };
  from?: string;
  to?: string;
  endorsementPolicy?: string;
  ordererMspId?: string;
  proofs?: ProofInput[];
  pageSize?: number;
  /** keep every block of the range in full (larger; lets the verifier check that no transaction of the subject was left out) */
  fullBlocks?: boolean;
  /** parallel qscc requests for headers */
  concurrency?: number;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

export async function exportBundle(o: ExportOptions): Promise<Bundle> {
  const network = o.gateway.getNetwork(o.channel);
  const audit = network.getContract(o.chaincode, 'audit');
  const data = network.getContract(o.chaincode, 'data');
  const qscc = network.getContract('qscc');
  const subjectType = o.subject.type.toLowerCase();
  const from = o.from ? Date.parse(o.from) : -Infinity;
  const to = o.to ? Date.parse(o.to) : Infinity;
  if (Number.isNaN(from) || Number.isNaN(to)) throw new Error('--from/--to must be ISO-8601 times');

  // 1. activity of the subject, every page of the window (the chaincode starts at from and stops after to), kept in range
  const byTx = new Map<string, ActivityRecord[]>();
  let bookmark = '';
  const size = String(o.pageSize ?? 200);
  for (;;) {
    const page = JSON.parse(
      text(
        o.from || o.to
          ? await audit.evaluateTransaction(
              'QueryActivityBySubjectBetween',
              subjectType,
              o.subject.id,
              o.from ?? '',
              o.to ?? '',
              size,
              bookmark,
            )
          : await audit.evaluateTransaction('QueryActivityBySubject', subjectType, o.subject.id, size, bookmark),
      ),
    ) as ActivityPage;
    for (const r of page.items) {
      const t = Date.parse(r.time);
      if (t < from || t > to) continue;
      byTx.set(r.txId, [...(byTx.get(r.txId) ?? []), r]);
    }
    if (!page.items.length || !page.bookmark || page.bookmark === bookmark) break;
    bookmark = page.bookmark;
  }
  if (byTx.size === 0) throw new Error(`no activity of ${subjectType} ${o.subject.id} in the range`);

  // 2. the block of each transaction, in full
  const full = new Map<number, common.Block>();
  const claims: ClaimedTx[] = [];
  const locate = async (txId: string, role: ClaimedTx['role'], activity?: unknown[]) => {
    let block = [...full.values()].find((b) => indexOf(b, txId) >= 0);
    if (!block) {
      block = common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByTxID', o.channel, txId));
      full.set(Number(block.getHeader()!.getNumber()), block);
    }
    claims.push({
      txId,
      blockNumber: Number(block.getHeader()!.getNumber()),
      txIndex: indexOf(block, txId),
      role,
      ...(activity ? { activity } : {}),
    });
  };
  for (const [txId, records] of byTx) await locate(txId, 'activity', records);

  // 3. Merkle proofs: the chaincode's answer, and the transaction that anchored the batch
  const proofs: BundleProof[] = [];
  for (const p of o.proofs ?? []) {
    const answer = JSON.parse(text(await data.evaluateTransaction('VerifyInclusion', p.batchId, p.leafSha256, JSON.stringify(p.proof))));
    const history = JSON.parse(text(await audit.evaluateTransaction('GetHistory', 'batch', p.batchId))) as { txId: string }[];
    const anchorTxId = history.at(-1)?.txId; // newest first: the last is the creation
    if (!anchorTxId) throw new Error(`batch ${p.batchId} has no history`);
    if (!claims.some((c) => c.txId === anchorTxId)) await locate(anchorTxId, 'batch-anchor');
    proofs.push({ ...p, anchorTxId, chaincodeAnswer: answer });
  }

  // 4. every header between the first and the last block
  const numbers = [...full.keys()];
  const first = Math.min(...numbers);
  const last = Math.max(...numbers);
  const headers = new Map<number, common.Block>();
  const missing: number[] = [];
  for (let n = first; n <= last; n++) if (!full.has(n)) missing.push(n);
  const fetchBlock = async (n: number) =>
    common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', o.channel, String(n)));
  const workers = Array.from({ length: Math.max(1, o.concurrency ?? 4) }, async () => {
    for (let n = missing.shift(); n !== undefined; n = missing.shift()) {
      const b = await fetchBlock(n);
      if (o.fullBlocks) full.set(n, b);
      else headers.set(n, trim(b));
    }
  });
  await Promise.all(workers);

  // 5. the orgs' CA certificates from the latest configuration block
  const configNumber = lastConfigIndex(full.get(last)!);
  const config = full.get(configNumber) ?? (await fetchBlock(configNumber));
  const cas = configMsps(config).map((m) => ({ mspId: m.mspId, pem: m.pem, source: `channel config block ${configNumber} (${m.group})` }));

  const blocks: BundleBlock[] = [];
  for (let n = first; n <= last; n++) {
    const b = full.get(n) ?? headers.get(n)!;
    blocks.push({ number: n, full: full.has(n), block: Buffer.from(b.serializeBinary()).toString('base64') });
  }
  claims.sort((a, b) => a.blockNumber - b.blockNumber || a.txIndex - b.txIndex);
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    createdAt: new Date().toISOString(),
    channel: o.channel,
    chaincode: o.chaincode,
    subject: { type: subjectType, id: o.subject.id },
    range: { ...(o.from ? { from: new Date(from).toISOString() } : {}), ...(o.to ? { to: new Date(to).toISOString() } : {}) },
    endorsementPolicy: o.endorsementPolicy ?? DEFAULT_POLICY,
    ordererMspId: o.ordererMspId ?? 'OrdererMSP',
    cas,
    transactions: claims,
    blocks,
    proofs,
  };
}

function indexOf(block: common.Block, txId: string): number {
  const list = block.getData()?.getDataList_asU8() ?? [];
  for (let i = 0; i < list.length; i++) if (decodeEnvelope(i, list[i]).txId === txId) return i;
  return -1;
}

/** Header and metadata only: enough for the hash chain and the orderer signatures. */
function trim(block: common.Block): common.Block {
  const out = new common.Block();
  out.setHeader(block.getHeader());
  out.setMetadata(block.getMetadata());
  out.setData(new common.BlockData());
  return out;
}
