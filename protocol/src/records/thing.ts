import type { Actor } from './actor';

export const THING_KINDS = ['SENSOR', 'DEVICE', 'SYSTEM', 'GATEWAY'] as const;
export type ThingKind = (typeof THING_KINDS)[number];
export const ACCESS_MODES = ['AUTONOMOUS', 'GATEWAY'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];
export const THING_STATUSES = ['ACTIVE', 'SUSPENDED', 'REVOKED'] as const;
export type ThingStatus = (typeof THING_STATUSES)[number];
export const CLASSIFICATIONS = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'RESTRICTED'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];
export const STORAGE_PLACEMENTS = ['ON_PLATFORM', 'EXTERNAL', 'ANY'] as const;
export type StoragePlacement = (typeof STORAGE_PLACEMENTS)[number];

/** Level of a classification, compared with capability levels (0..3). */
export function classificationLevel(c: Classification): number {
  return CLASSIFICATIONS.indexOf(c);
}

/** Hours of the day (UTC, by transaction time) when the thing's data may be transmitted: [fromHour, toHour). */
export interface TransmitWindow {
  fromHour: number;
  toHour: number;
}

/** Where a thing's data may be stored, who may receive it, for what, for how long (X5). */
export interface DataFlowPolicy {
  storage: StoragePlacement;
  storageIds: string[];
  allowedMetaverses: string[];
  allowedDpmProviders: string[];
  purposes: string[];
  retentionDays: number;
  encryptionRequired: boolean;
  transmitWindow?: TransmitWindow;
}

/** A sensor, device, IoT system or IoT gateway registered by an IoT platform (F4, X5). */
export interface Thing {
  docType: 'thing';
  thingId: string;
  name: string;
  kind: ThingKind;
  platformId: string;
  mspId: string;
  accessMode: AccessMode;
  gatewayId?: string;
  publicKey: string;
  owner: string;
  classification: Classification;
  agents: string[];
  status: ThingStatus;
  statusReason?: string;
  suspendedByAlert?: string;
  policy: DataFlowPolicy;
  registeredBy: Actor;
  createdAt: string;
  updatedAt: string;
}
