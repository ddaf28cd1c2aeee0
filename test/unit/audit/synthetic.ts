/**
 * Synthetic Fabric material for the verifier's unit tests: a throw-away PKI (openssl, P-256) with
 * NodeOU-style certificates, endorser transactions and signed blocks built with fabric-protos.
 */
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { blockHeaderDer, blockHeaderHash } from '../../../audit/src/asn1.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle } from '../../../audit/src/bundle.js';
import { OpensslCas } from '../support/openssl-ca.js';

export interface Signer {
  mspId: string;
  pem: string;
  key: KeyObject;
  /** SerializedIdentity bytes */
  id: Uint8Array;
}

export class Pki extends OpensslCas {
  private serial = 1;

  /** A leaf of `mspId` with OU `ou`, issued by `issuerMsp`'s CA (default: its own). */
  leaf(mspId: string, ou: string, cn: string, issuerMsp = mspId): Signer {
    const serial = this.serial++;
    const { pem, key } = this.issue(`leaf${serial}`, `/O=${mspId}/OU=${ou}/CN=${cn}`, issuerMsp, serial + 1);
    const id = new msp.SerializedIdentity();
    id.setMspid(mspId);
    id.setIdBytes(Buffer.from(pem));
    return { mspId, pem, key, id: id.serializeBinary() };
  }
}

export const CHANNEL = 'mvsec';
export const CHAINCODE = 'mvsec';
const ecdsa = (s: Signer, data: Uint8Array) => sign('sha256', data, s.key);

export interface TxSpec {
  creator: Signer;
  endorsers: Signer[];
  writes: { key: string; value: string }[];
  time?: Date;
  chaincode?: string;
}

/** An endorser transaction envelope, signed as a Fabric client and endorsing peers sign it. */
export function endorserTx(spec: TxSpec): { envelope: Uint8Array; txId: string } {
  const nonce = randomBytes(24);
  const txId = createHash('sha256')
    .update(Buffer.concat([nonce, spec.creator.id]))
    .digest('hex');
  // a google.protobuf.Timestamp instance without depending on google-protobuf directly
  const ts = common.ChannelHeader.deserializeBinary(new Uint8Array([0x1a, 0])).getTimestamp()!;
  const t = spec.time ?? new Date('2025-03-01T10:00:00Z');
  ts.setSeconds(Math.floor(t.getTime() / 1000));
  ts.setNanos((t.getTime() % 1000) * 1e6);
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.ENDORSER_TRANSACTION);
  ch.setChannelId(CHANNEL);
  ch.setTxId(txId);
  ch.setTimestamp(ts);
  const sh = new common.SignatureHeader();
  sh.setCreator(spec.creator.id);
  sh.setNonce(nonce);
  const shBytes = sh.serializeBinary();

  const kv = new ledger.rwset.kvrwset.KVRWSet();
  kv.setWritesList(
    spec.writes.map((w) => {
      const x = new ledger.rwset.kvrwset.KVWrite();
      x.setKey(w.key);
      x.setValue(Buffer.from(w.value));
      return x;
    }),
  );
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(CHAINCODE);
  ns.setRwset(kv.serializeBinary());
  const rwset = new ledger.rwset.TxReadWriteSet();
  rwset.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
  rwset.setNsRwsetList([ns]);
  const ccid = new peer.ChaincodeID();
  ccid.setName(spec.chaincode ?? CHAINCODE);
  const cca = new peer.ChaincodeAction();
  cca.setResults(rwset.serializeBinary());
  cca.setChaincodeId(ccid);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(randomBytes(32));
  prp.setExtension$(cca.serializeBinary());
  const prpBytes = prp.serializeBinary();
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prpBytes);
  endorsed.setEndorsementsList(
    spec.endorsers.map((e) => {
      const x = new peer.Endorsement();
      x.setEndorser(e.id);
      x.setSignature(ecdsa(e, Buffer.concat([prpBytes, e.id])));
      return x;
    }),
  );
  const cap = new peer.ChaincodeActionPayload();
  cap.setAction(endorsed);
  const action = new peer.TransactionAction();
  action.setHeader(shBytes);
  action.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([action]);
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  header.setSignatureHeader(shBytes);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(tx.serializeBinary());
  const payloadBytes = payload.serializeBinary();
  const env = new common.Envelope();
  env.setPayload(payloadBytes);
  env.setSignature(ecdsa(spec.creator, payloadBytes));
  return { envelope: env.serializeBinary(), txId };
}

/** A chain of blocks from `first`, each holding `envelopes[i]`, signed by `orderer` as Raft's leader signs. */
export function chain(
  first: number,
  envelopes: Uint8Array[][],
  orderer: Signer,
  previousHash: Uint8Array = randomBytes(32),
): common.Block[] {
  const out: common.Block[] = [];
  let prev: Uint8Array = Buffer.from(previousHash);
  envelopes.forEach((list, k) => {
    const n = first + k;
    const dataHash = createHash('sha256').update(Buffer.concat(list)).digest();
    const header = new common.BlockHeader();
    header.setNumber(n);
    header.setPreviousHash(prev);
    header.setDataHash(dataHash);
    const data = new common.BlockData();
    data.setDataList(list);
    const lastConfig = new common.LastConfig();
    lastConfig.setIndex(0);
    const obm = new common.OrdererBlockMetadata();
    obm.setLastConfig(lastConfig);
    const value = obm.serializeBinary();
    const sh = new common.SignatureHeader();
    sh.setCreator(orderer.id);
    sh.setNonce(randomBytes(24));
    const shBytes = sh.serializeBinary();
    const ms = new common.MetadataSignature();
    ms.setSignatureHeader(shBytes);
    ms.setSignature(ecdsa(orderer, Buffer.concat([value, shBytes, blockHeaderDer(BigInt(n), prev, dataHash)])));
    const md = new common.Metadata();
    md.setValue(value);
    md.setSignaturesList([ms]);
    const meta = new common.BlockMetadata();
    meta.setMetadataList([md.serializeBinary(), new Uint8Array(), new Uint8Array(list.length), new Uint8Array(), new Uint8Array()]);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(data);
    block.setMetadata(meta);
    out.push(block);
    prev = blockHeaderHash(BigInt(n), prev, dataHash);
  });
  return out;
}

export const activityKey = (type: string, id: string, txTag: string) =>
  `\u0000activity~subject\u0000${type}\u0000${id}\u00002025-03-01T10:00:00.000Z\u0000${txTag}\u00000\u0000`;

/** A bundle of `blocks`, claiming the transactions `claims` ([block number, tx index, tx id]). */
export function bundleOf(blocks: common.Block[], claims: [number, number, string][], cas: Map<string, string>, full = () => true): Bundle {
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    createdAt: new Date().toISOString(),
    channel: CHANNEL,
    chaincode: CHAINCODE,
    subject: { type: 'thing', id: 'watch-1' },
    range: {},
    endorsementPolicy: "OutOf(2,'IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')",
    ordererMspId: 'OrdererMSP',
    cas: [...cas].map(([mspId, pem]) => ({ mspId, pem: [pem], source: 'test' })),
    transactions: claims.map(([blockNumber, txIndex, txId]) => ({ txId, blockNumber, txIndex, role: 'activity' as const })),
    blocks: blocks.map((b) => {
      const n = Number(b.getHeader()!.getNumber());
      const isFull = full() || claims.some((c) => c[0] === n);
      let out = b;
      if (!isFull) {
        out = new common.Block();
        out.setHeader(b.getHeader());
        out.setMetadata(b.getMetadata());
        out.setData(new common.BlockData());
      }
      return { number: n, full: isFull, block: Buffer.from(out.serializeBinary()).toString('base64') };
    }),
    proofs: [],
  };
}
