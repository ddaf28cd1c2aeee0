import type { Actor } from './actor';

export const TRANSFER_KINDS = ['SHARE', 'MOVE', 'EXCHANGE'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
export const TRANSFER_STATUSES = [
  'REQUESTED',
  'SOURCE_APPROVED',
  'TARGET_APPROVED',
  'CONSENTED',
  'EXECUTED',
  'REJECTED',
  'REVOKED',
  'EXPIRED',
] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];
export const TERMINAL_TRANSFER_STATUSES: readonly TransferStatus[] = ['EXECUTED', 'REJECTED', 'REVOKED', 'EXPIRED'];

/** One step of a transfer's life. */
export interface TransferStep {
  status: TransferStatus;
  at: string;
  by: Actor;
  txId: string;
  reason?: string;
}

/**
 * Cross-metaverse movement of a data package (an avatar's state, items, readings) from an avatar
 * in the source metaverse to the target metaverse, under double verification (X3, R3).
 */
export interface Transfer {
  docType: 'transfer';
  transferId: string;
  kind: TransferKind;
  thingId: string;
  sourceAvatarId: string;
  sourceMetaverseId: string;
  sourceMspId: string;
  targetMetaverseId: string;
  targetMspId: string;
  targetAvatarId?: string;
  dataId: string;
  dataSha256: string;
  items: string[];
  purpose: string;
  owner: string;
  ownerMspId: string;
  status: TransferStatus;
  expiresAt: string;
  endorsingMsps: string[];
  requestedBy: Actor;
  steps: TransferStep[];
  createdAt: string;
  updatedAt: string;
}
