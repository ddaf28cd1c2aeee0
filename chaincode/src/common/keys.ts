import type { ChaincodeStub } from 'fabric-shim-api';

/**
 * Key layout: the only place that knows how records and indexes are keyed. Every key is a
 * composite key (U+0000 objectType U+0000 attr U+0000 …), so ids are validated to contain no
 * control characters before they reach here. Index entries hold a small JSON value, never an
 * empty one (an empty value is a delete in Fabric).
 */
export const KeyType = {
  platform: 'platform',
  federation: 'federation',
  metaverseOfMsp: 'platform~metaverse~msp',
  providerIdentity: 'provider~identity',
  principalKey: 'principal~key',
  thing: 'thing',
  thingByOwner: 'thing~owner',
  avatar: 'avatar',
  avatarByThing: 'avatar~thing',
  migration: 'migration',
  grant: 'grant',
  grantByResource: 'grant~resource',
  transfer: 'transfer',
  data: 'data',
  dataByThing: 'data~thing',
  batch: 'batch',
  job: 'job',
  jobByProvider: 'job~provider',
  jobOpenByProvider: 'job~provider~open',
  alert: 'alert',
  alertOpen: 'alert~open',
  alertBySubject: 'alert~subject',
  activityBySubject: 'activity~subject',
  activityByTime: 'activity~time',
  pii: 'pii',
  piiFingerprint: 'pii~fingerprint',
  piiKey: 'piikey',
  bench: 'bench',
  roleIssuers: 'settings~roles',
  roleIssuersProposal: 'proposal~roles',
} as const;

type Stub = Pick<ChaincodeStub, 'createCompositeKey'>;

export const keys = {
  platform: (s: Stub, platformId: string) => s.createCompositeKey(KeyType.platform, [platformId]),
  /** Federation of two platforms, attributes sorted so either side finds the same key. */
  federation: (s: Stub, a: string, b: string) => s.createCompositeKey(KeyType.federation, a < b ? [a, b] : [b, a]),
  /** The one metaverse platform an MSP runs (rule 6); its value is {platformId}. */
  metaverseOfMsp: (s: Stub, mspId: string) => s.createCompositeKey(KeyType.metaverseOfMsp, [mspId]),
  /** A signing key bound to a DPM provider (rule 8): SHA-256 of the certificate's SubjectPublicKeyInfo. */
  providerIdentity: (s: Stub, providerId: string, spkiSha256: string) =>
    s.createCompositeKey(KeyType.providerIdentity, [providerId, spkiSha256]),
  /** The one signing key bound to a principal of an MSP (rule 8): only certificates for it act as the principal. */
  principalKey: (s: Stub, mspId: string, principal: string) => s.createCompositeKey(KeyType.principalKey, [mspId, principal]),
  thing: (s: Stub, thingId: string) => s.createCompositeKey(KeyType.thing, [thingId]),
  /** Things by owner within the owner's organisation (rule 6: who is a known principal of an MSP). */
  thingByOwner: (s: Stub, mspId: string, owner: string, thingId: string) =>
    s.createCompositeKey(KeyType.thingByOwner, [mspId, owner, thingId]),
  avatar: (s: Stub, avatarId: string) => s.createCompositeKey(KeyType.avatar, [avatarId]),
  avatarByThing: (s: Stub, thingId: string, metaverseId: string, avatarId: string) =>
    s.createCompositeKey(KeyType.avatarByThing, [thingId, metaverseId, avatarId]),
  migration: (s: Stub, migrationId: string) => s.createCompositeKey(KeyType.migration, [migrationId]),
  grant: (s: Stub, grantId: string) => s.createCompositeKey(KeyType.grant, [grantId]),
  grantByResource: (s: Stub, resourceType: string, resourceId: string, grantId: string) =>
    s.createCompositeKey(KeyType.grantByResource, [resourceType, resourceId, grantId]),
  transfer: (s: Stub, transferId: string) => s.createCompositeKey(KeyType.transfer, [transferId]),
  data: (s: Stub, dataId: string) => s.createCompositeKey(KeyType.data, [dataId]),
  dataByThing: (s: Stub, thingId: string, dataId: string) => s.createCompositeKey(KeyType.dataByThing, [thingId, dataId]),
  batch: (s: Stub, batchId: string) => s.createCompositeKey(KeyType.batch, [batchId]),
  job: (s: Stub, jobId: string) => s.createCompositeKey(KeyType.job, [jobId]),
  jobByProvider: (s: Stub, providerId: string, jobId: string) => s.createCompositeKey(KeyType.jobByProvider, [providerId, jobId]),
  /** A provider's jobs still to be done (SUBMITTED or ACCEPTED): its worker pages through these only. */
  jobOpenByProvider: (s: Stub, providerId: string, jobId: string) => s.createCompositeKey(KeyType.jobOpenByProvider, [providerId, jobId]),
  alert: (s: Stub, alertId: string) => s.createCompositeKey(KeyType.alert, [alertId]),
  alertOpen: (s: Stub, alertId: string) => s.createCompositeKey(KeyType.alertOpen, [alertId]),
  alertBySubject: (s: Stub, subjectType: string, subjectId: string, alertId: string) =>
    s.createCompositeKey(KeyType.alertBySubject, [subjectType, subjectId, alertId]),
  activityBySubject: (s: Stub, subjectType: string, subjectId: string, time: string, txId: string, seq: string) =>
    s.createCompositeKey(KeyType.activityBySubject, [subjectType, subjectId, time, txId, seq]),
  /** Time index: day and hour first so an auditor can page through one day or one hour. */
  activityByTime: (s: Stub, time: string, txId: string, seq: string) =>
    s.createCompositeKey(KeyType.activityByTime, [time.slice(0, 10), time.slice(11, 13), time, txId, seq]),
  pii: (s: Stub, dataId: string) => s.createCompositeKey(KeyType.pii, [dataId]),
  /** In a PII collection: the staged fingerprint of `dataId`'s PII ({dataId, thingId, piiHash}); its private-data hash is public. */
  piiFingerprint: (s: Stub, dataId: string) => s.createCompositeKey(KeyType.piiFingerprint, [dataId]),
  /** In a PII collection: the per-thing secret keying the public PII fingerprints of that thing. */
  piiKey: (s: Stub, thingId: string) => s.createCompositeKey(KeyType.piiKey, [thingId]),
  bench: (s: Stub, key: string) => s.createCompositeKey(KeyType.bench, [key]),
  /** Trust rule 1: which organisations may issue which roles (one record; absent = defaults of common/config.ts). */
  roleIssuers: (s: Stub) => s.createCompositeKey(KeyType.roleIssuers, []),
  roleIssuersProposal: (s: Stub, proposalId: string) => s.createCompositeKey(KeyType.roleIssuersProposal, [proposalId]),
};

/** Record types whose key history an auditor may read with GetHistory, and how to key them. */
export const HISTORY_KEYS: Record<string, (s: Stub, id: string) => string> = {
  platform: keys.platform,
  thing: keys.thing,
  avatar: keys.avatar,
  migration: keys.migration,
  grant: keys.grant,
  transfer: keys.transfer,
  data: keys.data,
  batch: keys.batch,
  job: keys.job,
  alert: keys.alert,
};
