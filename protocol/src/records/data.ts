import type { Actor } from './actor';

export const DATA_STAGES = ['COLLECTED', 'STORED', 'SHARED', 'DELETED'] as const;
export type DataStage = (typeof DATA_STAGES)[number];
export const PLACEMENTS = ['ON_PLATFORM', 'EXTERNAL'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** Where the encrypted off-chain object lives (R2, S2). */
export interface StorageLocation {
  placement: Placement;
  storeId: string;
  uri: string;
}

/** One lifecycle step of a data object (M1). */
export interface LifecycleStep {
  stage: DataStage;
  at: string;
  by: Actor;
  note?: string;
}

/** Fingerprint of an off-chain object bound to the ledger (F2, S1, C3). */
export interface DataAnchor {
  docType: 'data';
  dataId: string;
  thingId: string;
  avatarId?: string;
  sha256: string;
  size: number;
  category: string;
  classification: string;
  owner: string;
  ownerMspId: string;
  storage: StorageLocation;
  keyId?: string;
  encrypted: boolean;
  stage: DataStage;
  lifecycle: LifecycleStep[];
  piiHash?: string;
  piiCollection?: string;
  anchoredBy: Actor;
  createdAt: string;
  updatedAt: string;
}

/** Merkle root of a batch of readings (C3). */
export interface BatchAnchor {
  docType: 'batch';
  batchId: string;
  thingId: string;
  merkleRoot: string;
  leafCount: number;
  firstReadingAt: string;
  lastReadingAt: string;
  storage?: StorageLocation;
  anchoredBy: Actor;
  createdAt: string;
}

/** PII kept only in the private data collection of the writer's organisation (X7). */
export interface PiiRecord {
  dataId: string;
  salt: string;
  details: string;
  collection: string;
}

/** Answer of StorePII: the public fingerprint AnchorData then binds (rule 7). */
export interface PiiStaged {
  dataId: string;
  thingId: string;
  piiCollection: string;
  piiHash: string;
  keyCreated: boolean;
}

/** Answer of VerifyData / VerifyInclusion. */
export interface Verification {
  valid: boolean;
  reason: string;
}

export interface DataAnchorPage {
  items: DataAnchor[];
  bookmark: string;
}
