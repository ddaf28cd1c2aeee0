/**
 * Decoding Fabric blocks and transactions with @hyperledger/fabric-protos. Every byte string that
 * is hashed or signed is taken as stored (never re-serialised).
 */
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { X509Certificate } from 'node:crypto';

export const META = { SIGNATURES: 0, LAST_CONFIG: 1, TRANSACTIONS_FILTER: 2 } as const;
export const HEADER_TYPE_ENDORSER_TRANSACTION = 3;
export const HEADER_TYPE_CONFIG = 1;

export const validationCodeName = (code: number) =>
  Object.entries(peer.TxValidationCode).find(([, v]) => v === code)?.[0] ?? `code ${code}`;

export interface Identity {
  mspId: string;
  pem: string;
  /** the SerializedIdentity bytes as they were signed */
  raw: Uint8Array;
}

export function decodeIdentity(raw: Uint8Array): Identity {
  const id = msp.SerializedIdentity.deserializeBinary(raw);
  return { mspId: id.getMspid(), pem: Buffer.from(id.getIdBytes_asU8()).toString('utf8'), raw };
}

export interface OrdererSignature {
  signatureHeader: Uint8Array;
  signature: Uint8Array;
  identifierHeader: Uint8Array;
}

export function blockSignatures(block: common.Block): { value: Uint8Array; signatures: OrdererSignature[] } {
  const raw = block.getMetadata()?.getMetadataList_asU8()[META.SIGNATURES] ?? new Uint8Array();
  const md = common.Metadata.deserializeBinary(raw);
  return {
    value: md.getValue_asU8(),
    signatures: md.getSignaturesList().map((s) => ({
      signatureHeader: s.getSignatureHeader_asU8(),
      signature: s.getSignature_asU8(),
      identifierHeader: s.getIdentifierHeader_asU8(),
    })),
  };
}

/** The index of the last configuration block, as the orderer wrote it into the signed metadata value. */
export function lastConfigIndex(block: common.Block): number {
  const { value } = blockSignatures(block);
  return Number(common.OrdererBlockMetadata.deserializeBinary(value).getLastConfig()?.getIndex() ?? 0);
}

export function validationFlags(block: common.Block): Uint8Array {
  return block.getMetadata()?.getMetadataList_asU8()[META.TRANSACTIONS_FILTER] ?? new Uint8Array();
}

export interface Endorsement {
  endorser: Uint8Array;
  signature: Uint8Array;
}

export interface Write {
  namespace: string;
  key: string;
  isDelete: boolean;
  value: Uint8Array;
}

export interface DecodedTx {
  index: number;
  envelope: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
  type: number;
  channel: string;
  txId: string;
  timestamp?: Date;
  creator: Identity;
  nonce: Uint8Array;
  /** endorser transactions only: one entry per action */
  actions: { chaincode: string; proposalResponsePayload: Uint8Array; endorsements: Endorsement[]; writes: Write[] }[];
}

export function decodeEnvelope(index: number, envelope: Uint8Array): DecodedTx {
  const env = common.Envelope.deserializeBinary(envelope);
  const payloadBytes = env.getPayload_asU8();
  const payload = common.Payload.deserializeBinary(payloadBytes);
  const header = payload.getHeader();
  if (!header) throw new Error('payload has no header');
  const ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const ts = ch.getTimestamp();
  const tx: DecodedTx = {
    index,
    envelope,
    payload: payloadBytes,
    signature: env.getSignature_asU8(),
    type: ch.getType(),
    channel: ch.getChannelId(),
    txId: ch.getTxId(),
    timestamp: ts ? new Date(ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6)) : undefined,
    creator: decodeIdentity(sh.getCreator_asU8()),
    nonce: sh.getNonce_asU8(),
    actions: [],
  };
  if (tx.type !== HEADER_TYPE_ENDORSER_TRANSACTION) return tx;
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  for (const action of transaction.getActionsList()) {
    const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const endorsed = cap.getAction();
    if (!endorsed) throw new Error('transaction action has no endorsed action');
    const prpBytes = endorsed.getProposalResponsePayload_asU8();
    const prp = peer.ProposalResponsePayload.deserializeBinary(prpBytes);
    const cca = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    const writes: Write[] = [];
    const rwset = ledger.rwset.TxReadWriteSet.deserializeBinary(cca.getResults_asU8());
    for (const ns of rwset.getNsRwsetList()) {
      const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
      for (const w of kv.getWritesList())
        writes.push({ namespace: ns.getNamespace(), key: w.getKey(), isDelete: w.getIsDelete(), value: w.getValue_asU8() });
    }
    tx.actions.push({
      chaincode: cca.getChaincodeId()?.getName() ?? '',
      proposalResponsePayload: prpBytes,
      endorsements: endorsed.getEndorsementsList().map((e) => ({ endorser: e.getEndorser_asU8(), signature: e.getSignature_asU8() })),
      writes,
    });
  }
  return tx;
}

/** The MSPs of a config block: name and root CA certificates, for the application and orderer groups. */
export function configMsps(configBlock: common.Block): { mspId: string; pem: string[]; group: string }[] {
  const envelope = common.Envelope.deserializeBinary(configBlock.getData()!.getDataList_asU8()[0]);
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const config = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig();
  const out: { mspId: string; pem: string[]; group: string }[] = [];
  const channel = config?.getChannelGroup();
  for (const groupName of ['Application', 'Orderer']) {
    const group = channel?.getGroupsMap().get(groupName);
    group?.getGroupsMap().forEach((orgGroup: common.ConfigGroup) => {
      const value = orgGroup.getValuesMap().get('MSP');
      if (!value) return;
      const mspConfig = msp.MSPConfig.deserializeBinary(value.getValue_asU8());
      const fabric = msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
      out.push({
        mspId: fabric.getName(),
        pem: fabric.getRootCertsList_asU8().map((c) => Buffer.from(c).toString('utf8')),
        group: groupName,
      });
    });
  }
  return out;
}

/** Organisational units of a certificate subject (Fabric NodeOUs: client, peer, admin, orderer). */
export function ous(cert: X509Certificate): string[] {
  return cert.subject
    .split('\n')
    .filter((l) => l.startsWith('OU='))
    .flatMap((l) => l.slice(3).split('+'));
}
