import { Info, Param, Returns, Transaction } from '../common/decorators';
import { decideWithGrants, loadAccessTarget, ownersOf } from '../access/access-target';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { piiCollectionFor, piiCollectionMember } from '../common/config';
import { conflict, invalid, notFound } from '../common/errors';
import { guardKeys } from '../common/endorsement';
import { keys, KeyType } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists, mustGet, pageByPartialKey, putIndex, putRecord } from '../common/state';
import { fromBytes, toBytes } from '../common/serialization';
import { certainlyPassed, isoOf, MAX_SKEW_MS, txMillis } from '../common/time';
import {
  assertBookmark,
  assertBool,
  assertEnum,
  assertId,
  assertInt,
  assertOnlyFields,
  assertPageSize,
  assertSha256,
  assertText,
  assertTimestamp,
  optionalId,
  parseArray,
  parseObject,
} from '../common/validation';
import { loadThing } from '../thing/thing-store';
import { CLASSIFICATIONS } from '../thing/thing-types';
import { loadData, saveData } from './data-store';
import { BatchAnchor, DataAnchor, DataAnchorPage, PiiRecord, PiiStaged, PLACEMENTS, StorageLocation, Verification } from './data-types';
import {
  assertPiiPeer,
  fingerprintBytes,
  hasPiiTransient,
  isStagedFingerprint,
  loadPiiKey,
  parsePiiTransient,
  peerMspOf,
  piiFingerprintOf,
  savePiiKey,
} from './pii';
import { type ProofStep, rootFromProof } from 'mvsec-protocol';

export { PII_TRANSIENT_KEY, piiFingerprintOf } from './pii';

const DAY_MS = 86_400_000;

/**
 * Data anchors (fingerprint, size, category, classification, owner, storage, key id), Merkle-root
 * batch anchors, lifecycle and deletion; PII only in the caller organisation's private collection
 * (F2, S1, X5, X7, C3, M1).
 */
@Info({
  title: 'DataContract',
  description: 'Data fingerprints, batch Merkle roots, lifecycle, PII in private collections (F2, S1, X5, X7, C3, M1)',
})
export class DataContract extends LedgerContract {
  constructor() {
    super('data');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {dataId, thingId, avatarId?, sha256, size, category, classification, storage: {placement: ON_PLATFORM|EXTERNAL, storeId, uri}, keyId?, encrypted, stage?: COLLECTED|STORED, piiHash?}; piiHash: the fingerprint StorePII returned (no transient PII here)',
  )
  @Returns('DataAnchor')
  public async AnchorData(ctx: LedgerContext, input: string): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    if (hasPiiTransient(ctx)) {
      // Rule 7: a non-member peer refuses before the PII is read; a member peer points to StorePII
      // (a transaction carrying PII can be endorsed by the collection's one organisation only, and
      // this one writes public state, which needs the chaincode's multi-organisation endorsement).
      const collection = piiCollectionFor(caller.mspId);
      assertPiiPeer(ctx, collection);
      throw invalid(
        `AnchorData takes no transient PII: store it with StorePII (endorsed by ${piiCollectionMember(collection)} peers only), then anchor with its piiHash`,
      );
    }
    const body = parseObject('input', input);
    assertOnlyFields('input', body, [
      'dataId',
      'thingId',
      'avatarId',
      'sha256',
      'size',
      'category',
      'classification',
      'storage',
      'keyId',
      'encrypted',
      'stage',
      'piiHash',
    ]);
    const dataId = assertId('dataId', body.dataId);
    const thingId = assertId('thingId', body.thingId);
    const avatarId = optionalId('avatarId', body.avatarId);
    const storage = parseStorage(body.storage);
    const keyId = optionalId('keyId', body.keyId);
    const encrypted = assertBool('encrypted', body.encrypted);
    const stage = body.stage === undefined ? 'COLLECTED' : assertEnum('stage', body.stage, ['COLLECTED', 'STORED'] as const);
    const now = txMillis(ctx);

    const target = await loadAccessTarget(ctx, avatarId ? 'AVATAR' : 'THING', avatarId ?? thingId);
    if (target.thing.thingId !== thingId) throw conflict(`avatar ${avatarId} is not an avatar of thing ${thingId}`);
    enforce(await decideWithGrants(ctx, caller, 'resource.access', { target, accessAction: 'write', purpose: '*', now }));
    enforce(authorize(caller, 'data.placement', { thing: target.thing, storage, encrypted, keyId }));
    const key = keys.data(ctx.stub, dataId);
    if (await keyExists(ctx, key))
      throw conflict(`data ${dataId} already exists; anchors are immutable, anchor a new version under a new id`);

    const at = isoOf(now);
    const anchor: DataAnchor = {
      docType: 'data',
      dataId,
      thingId,
      avatarId,
      sha256: assertSha256('sha256', body.sha256),
      size: assertInt('size', body.size, 0, Number.MAX_SAFE_INTEGER),
      category: assertId('category', body.category),
      classification: assertEnum('classification', body.classification, CLASSIFICATIONS),
      owner: target.thing.owner,
      ownerMspId: target.thing.mspId,
      storage,
      keyId,
      encrypted,
      stage,
      lifecycle: [{ stage, at, by: actorOf(caller) }],
      anchoredBy: actorOf(caller),
      createdAt: at,
      updatedAt: at,
    };
    if (body.piiHash !== undefined) {
      enforce(authorize(caller, 'pii.write'));
      const collection = piiCollectionFor(caller.mspId);
      const piiHash = assertSha256('piiHash', body.piiHash);
      // Any peer checks this by the private data's hash alone: it never sees the PII.
      if (!(await isStagedFingerprint(ctx, collection, { dataId, thingId, piiHash })))
        throw conflict(
          `no PII with fingerprint ${piiHash} is stored for data ${dataId} of thing ${thingId} in ${collection}; call StorePII first`,
        );
      anchor.piiCollection = collection;
      anchor.piiHash = piiHash;
    }
    await saveData(ctx, anchor);
    await putIndex(ctx, keys.dataByThing(ctx.stub, thingId, dataId));
    await guardKeys(ctx, [key, keys.dataByThing(ctx.stub, thingId, dataId)], ownersOf({ ...target, data: anchor })); // rule 9
    ctx.journal.record({
      subjectType: 'data',
      subjectId: dataId,
      action: 'anchored',
      details: {
        thingId,
        sha256: anchor.sha256,
        stage,
        ...(anchor.piiHash ? { piiHash: anchor.piiHash, piiCollection: anchor.piiCollection } : {}),
      },
    });
    return anchor;
  }

  /**
   * Rule 7, step 1 of anchoring data with PII: store the transient PII in the caller
   * organisation's collection and return its public fingerprint. Only that organisation's peers
   * process it (DENIED on any other peer, before the PII is read); the transaction writes private
   * data only, so the collection's endorsement policy (its member's peer) is all it needs. The
   * fingerprint is HMAC-SHA256 under the thing's secret in the collection, created here from the
   * client's key material on the thing's first PII (entropy-checked; later key material is ignored).
   * Step 2: AnchorData {…, piiHash}, endorsed as usual, binds the anchor to this fingerprint. No
   * activity record here (that would be a public write); AnchorData records piiHash and collection.
   */
  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {dataId, thingId, avatarId?}; transient "pii": JSON {salt, details, key?} (salt, key: hex or base64 of ≥ 32 random bytes)',
  )
  @Returns('PiiStaged')
  public async StorePII(ctx: LedgerContext, input: string): Promise<PiiStaged> {
    const caller = callerOf(ctx);
    enforce(authorize(caller, 'pii.write'));
    const collection = piiCollectionFor(caller.mspId);
    assertPiiPeer(ctx, collection);
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['dataId', 'thingId', 'avatarId']);
    const dataId = assertId('dataId', body.dataId);
    const thingId = assertId('thingId', body.thingId);
    const avatarId = optionalId('avatarId', body.avatarId);
    const now = txMillis(ctx);
    const target = await loadAccessTarget(ctx, avatarId ? 'AVATAR' : 'THING', avatarId ?? thingId);
    if (target.thing.thingId !== thingId) throw conflict(`avatar ${avatarId} is not an avatar of thing ${thingId}`);
    enforce(await decideWithGrants(ctx, caller, 'resource.access', { target, accessAction: 'write', purpose: '*', now }));
    if (await keyExists(ctx, keys.data(ctx.stub, dataId)))
      throw conflict(`data ${dataId} already exists; PII is stored before its anchor, under a new data id`);
    const staged = await ctx.stub.getPrivateDataHash(collection, keys.pii(ctx.stub, dataId));
    if (staged && staged.length > 0)
      throw conflict(`PII of data ${dataId} is already stored in ${collection}; anchor it or use a new data id`);

    const pii = parsePiiTransient(ctx);
    let secret = await loadPiiKey(ctx, collection, thingId);
    const keyCreated = secret === undefined;
    if (!secret) {
      if (!pii.key)
        throw invalid(`thing ${thingId} has no PII key in ${collection} yet: the first PII needs transient pii.key (≥ 32 random bytes)`);
      secret = {
        thingId,
        collection,
        key: pii.key.toString('hex'),
        createdAt: isoOf(now),
        createdBy: actorOf(caller).principal ?? caller.mspId,
      };
      await savePiiKey(ctx, secret);
    }
    const piiHash = piiFingerprintOf(Buffer.from(secret.key, 'hex'), pii.salt, pii.details);
    const record: PiiRecord = { dataId, thingId, salt: pii.salt, details: pii.details, collection };
    await ctx.stub.putPrivateData(collection, keys.pii(ctx.stub, dataId), toBytes(record));
    await ctx.stub.putPrivateData(collection, keys.piiFingerprint(ctx.stub, dataId), fingerprintBytes({ dataId, thingId, piiHash }));
    return { dataId, thingId, piiCollection: collection, piiHash, keyCreated };
  }

  /** Anchor the Merkle root of a batch of readings (each reading then has an inclusion proof). */
  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {batchId, thingId, merkleRoot, leafCount, firstReadingAt, lastReadingAt, storage?: {placement, storeId, uri}}',
  )
  @Returns('BatchAnchor')
  public async AnchorBatch(ctx: LedgerContext, input: string): Promise<BatchAnchor> {
    const caller = callerOf(ctx);
    const body = parseObject('input', input);
    assertOnlyFields('input', body, ['batchId', 'thingId', 'merkleRoot', 'leafCount', 'firstReadingAt', 'lastReadingAt', 'storage']);
    const batchId = assertId('batchId', body.batchId);
    const thingId = assertId('thingId', body.thingId);
    const firstReadingAt = assertTimestamp('firstReadingAt', body.firstReadingAt);
    const lastReadingAt = assertTimestamp('lastReadingAt', body.lastReadingAt);
    if (firstReadingAt > lastReadingAt) throw invalid('firstReadingAt is after lastReadingAt');
    const now = txMillis(ctx);
    const target = await loadAccessTarget(ctx, 'THING', thingId);
    enforce(await decideWithGrants(ctx, caller, 'resource.access', { target, accessAction: 'write', purpose: '*', now }));
    const key = keys.batch(ctx.stub, batchId);
    if (await keyExists(ctx, key)) throw conflict(`batch ${batchId} already exists`);
    const storage = body.storage === undefined ? undefined : parseStorage(body.storage);
    if (storage) enforce(authorize(caller, 'data.placement', { thing: target.thing, storage, encrypted: true, keyId: 'batch' }));
    const batch: BatchAnchor = {
      docType: 'batch',
      batchId,
      thingId,
      merkleRoot: assertSha256('merkleRoot', body.merkleRoot),
      leafCount: assertInt('leafCount', body.leafCount, 1, 1_000_000),
      firstReadingAt,
      lastReadingAt,
      storage,
      anchoredBy: actorOf(caller),
      createdAt: isoOf(now),
    };
    await putRecord(ctx, key, batch);
    await guardKeys(ctx, [key], [target.thing.mspId]); // rule 9
    ctx.journal.record({
      subjectType: 'batch',
      subjectId: batchId,
      action: 'anchored',
      details: { thingId, merkleRoot: batch.merkleRoot, leafCount: batch.leafCount },
    });
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: 'batch-anchored', details: { batchId } });
    return batch;
  }

  /** Record a lifecycle step: STORED (needs write) or SHARED (needs share for `purpose`). */
  @Transaction()
  @Param('stage', 'string', 'STORED | SHARED')
  @Returns('DataAnchor')
  public async RecordLifecycle(ctx: LedgerContext, dataId: string, stage: string, purpose: string, note: string): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    const next = assertEnum('stage', stage, ['STORED', 'SHARED'] as const);
    const why = purpose === '*' ? '*' : assertId('purpose', purpose);
    const target = await loadAccessTarget(ctx, 'DATA', assertId('dataId', dataId));
    const now = txMillis(ctx);
    enforce(
      await decideWithGrants(ctx, caller, 'resource.access', {
        target,
        accessAction: next === 'SHARED' ? 'share' : 'write',
        purpose: why,
        now,
      }),
    );
    const data = target.data!;
    const at = isoOf(now);
    const updated: DataAnchor = {
      ...data,
      stage: next,
      lifecycle: [...data.lifecycle, { stage: next, at, by: actorOf(caller), note: assertText('note', note, 256) }],
      updatedAt: at,
    };
    await saveData(ctx, updated);
    ctx.journal.record({ subjectType: 'data', subjectId: data.dataId, action: next.toLowerCase(), details: { purpose: why } });
    return updated;
  }

  /**
   * Deletion as a recorded lifecycle step (X7): the anchor stays (fingerprint only) with stage
   * DELETED; the PII is purged when the caller belongs to the organisation holding it (otherwise
   * a member of that organisation calls PurgePII). Off-chain erase and key destruction follow.
   */
  @Transaction()
  @Returns('DataAnchor')
  public async DeleteData(ctx: LedgerContext, dataId: string, reason: string): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    const target = await loadAccessTarget(ctx, 'DATA', assertId('dataId', dataId));
    const now = txMillis(ctx);
    enforce(await decideWithGrants(ctx, caller, 'resource.access', { target, accessAction: 'delete', purpose: '*', now }));
    return this.markDeleted(ctx, target.data!, assertText('reason', reason, 256), 'deleted');
  }

  /**
   * Retention (X7, thing policy `retentionDays`): once the data's retention has passed — its
   * anchoring time plus the thing's current `retentionDays` plus the clock skew bound (rule 2),
   * against the transaction time — the
   * storage agent (role storage-agent or admin of the data's organisation) records its deletion,
   * as DeleteData does; before that, CONFLICT with the date it is kept until.
   */
  @Transaction()
  @Returns('DataAnchor')
  public async ExpireData(ctx: LedgerContext, dataId: string): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    const data = await loadData(ctx, assertId('dataId', dataId));
    enforce(authorize(caller, 'data.expire', { data }));
    if (data.stage === 'DELETED') throw conflict(`data ${dataId} is already deleted`);
    const thing = await loadThing(ctx, data.thingId);
    const days = thing.policy.retentionDays;
    const until = Date.parse(data.createdAt) + days * DAY_MS;
    // Rule 2: only once retention has passed for every clock within the skew bound (a forward-dated
    // proposal cannot delete data early): anchoredAt + retention + skew.
    if (!certainlyPassed(until, txMillis(ctx)))
      throw conflict(
        `data ${dataId} is kept until ${isoOf(until)}: thing ${thing.thingId}'s policy keeps its data ${days} days; ` +
          `it can be expired from ${isoOf(until + MAX_SKEW_MS)} (clock skew bound ${MAX_SKEW_MS / 1000} s)`,
      );
    return this.markDeleted(ctx, data, `retention: ${days} days from ${data.createdAt}`, 'expired');
  }

  /** The DELETED step, the PII purged where the caller's organisation holds it, one activity record. */
  private async markDeleted(ctx: LedgerContext, data: DataAnchor, note: string, action: 'deleted' | 'expired'): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    const at = isoOf(txMillis(ctx));
    const updated: DataAnchor = {
      ...data,
      stage: 'DELETED',
      lifecycle: [...data.lifecycle, { stage: 'DELETED', at, by: actorOf(caller), note }],
      updatedAt: at,
    };
    let piiPurged = false;
    if (data.piiCollection && data.piiCollection === piiCollectionFor(caller.mspId)) {
      await purgePii(ctx, data.piiCollection, data.dataId);
      piiPurged = true;
    }
    await saveData(ctx, updated);
    ctx.journal.record({ subjectType: 'data', subjectId: data.dataId, action, details: { reason: note, piiPurged } });
    return updated;
  }

  /** Purge the PII of deleted data from the caller organisation's collection. */
  @Transaction()
  @Returns('DataAnchor')
  public async PurgePII(ctx: LedgerContext, dataId: string): Promise<DataAnchor> {
    const caller = callerOf(ctx);
    const data = await loadData(ctx, assertId('dataId', dataId));
    if (data.stage !== 'DELETED') throw conflict(`data ${dataId} is ${data.stage}; delete it first`);
    enforce(authorize(caller, 'pii.purge', { data }));
    await purgePii(ctx, data.piiCollection!, dataId);
    ctx.journal.record({ subjectType: 'data', subjectId: dataId, action: 'pii-purged', details: { collection: data.piiCollection } });
    return data;
  }

  @Transaction(false)
  @Returns('DataAnchor')
  public async GetData(ctx: LedgerContext, dataId: string): Promise<DataAnchor> {
    const target = await loadAccessTarget(ctx, 'DATA', assertId('dataId', dataId));
    enforce(await decideWithGrants(ctx, callerOf(ctx), 'data.read', { target, now: txMillis(ctx) }));
    return target.data!;
  }

  /** Does `sha256` match the anchored fingerprint? Any member with a role may verify. */
  @Transaction(false)
  @Returns('Verification')
  public async VerifyData(ctx: LedgerContext, dataId: string, sha256: string): Promise<Verification> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const data = await loadData(ctx, assertId('dataId', dataId));
    const hash = assertSha256('sha256', sha256);
    if (data.stage === 'DELETED') return { valid: false, reason: `data ${dataId} is deleted` };
    return data.sha256 === hash
      ? { valid: true, reason: 'fingerprint matches' }
      : { valid: false, reason: 'fingerprint differs from the anchor' };
  }

  /** PII of a data object: only on a peer of the holding organisation, for a caller of that organisation with read access. */
  @Transaction(false)
  @Returns('PiiRecord')
  public async GetPII(ctx: LedgerContext, dataId: string): Promise<PiiRecord> {
    const data = await this.piiReadable(ctx, dataId);
    let bytes: Uint8Array;
    try {
      bytes = await ctx.stub.getPrivateData(data.piiCollection!, keys.pii(ctx.stub, data.dataId));
    } catch {
      // A peer outside the collection holds only the hash; Fabric then fails the read
      // ("private data matching public hash version is not available") instead of returning nothing.
      throw notFound(`PII of ${dataId} is not on this peer (the peer is not a member of ${data.piiCollection}, or has not received it)`);
    }
    if (!bytes || bytes.length === 0)
      throw notFound(`PII of ${dataId} is not on this peer (purged, or the peer is not a member of ${data.piiCollection})`);
    return fromBytes<PiiRecord>(bytes);
  }

  /**
   * Does `details` match the anchored PII fingerprint? Recomputes HMAC-SHA256 under the thing's
   * secret with the stored salt: for a caller who may read the PII, on a member peer.
   */
  @Transaction(false)
  @Returns('Verification')
  public async VerifyPII(ctx: LedgerContext, dataId: string, details: string): Promise<Verification> {
    const data = await this.piiReadable(ctx, dataId);
    const record = await this.GetPII(ctx, dataId);
    const secret = await loadPiiKey(ctx, data.piiCollection!, data.thingId);
    if (!secret) throw notFound(`the PII key of thing ${data.thingId} is not on this peer`);
    if (typeof details !== 'string' || details.length === 0) throw invalid('details must be a non-empty string');
    return piiFingerprintOf(Buffer.from(secret.key, 'hex'), record.salt, details) === data.piiHash
      ? { valid: true, reason: 'PII matches the anchored fingerprint' }
      : { valid: false, reason: 'PII differs from the anchored fingerprint' };
  }

  /** The anchor of `dataId` once the caller may read its PII and this peer is of the holding organisation. */
  private async piiReadable(ctx: LedgerContext, dataId: string): Promise<DataAnchor> {
    const target = await loadAccessTarget(ctx, 'DATA', assertId('dataId', dataId));
    enforce(await decideWithGrants(ctx, callerOf(ctx), 'pii.read', { target, now: txMillis(ctx) }));
    const data = target.data!;
    const member = piiCollectionMember(data.piiCollection!);
    const peer = peerMspOf(ctx);
    if (peer !== undefined && peer !== member)
      throw notFound(`PII of ${dataId} is not on this peer: ${data.piiCollection} is held by ${member} peers; this peer is ${peer}'s`);
    return data;
  }

  @Transaction(false)
  @Returns('BatchAnchor')
  public async GetBatch(ctx: LedgerContext, batchId: string): Promise<BatchAnchor> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    return mustGet<BatchAnchor>(ctx, keys.batch(ctx.stub, assertId('batchId', batchId)), `batch ${batchId}`);
  }

  /** Verify that a reading (its SHA-256) is in a batch, given its proof [{position: L|R, sha256}] from the leaf up. */
  @Transaction(false)
  @Param('proof', 'string', 'JSON array [{position: "L"|"R", sha256}] of sibling hashes from the leaf up')
  @Returns('Verification')
  public async VerifyInclusion(ctx: LedgerContext, batchId: string, leafSha256: string, proof: string): Promise<Verification> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    const batch = await mustGet<BatchAnchor>(ctx, keys.batch(ctx.stub, assertId('batchId', batchId)), `batch ${batchId}`);
    const leaf = assertSha256('leafSha256', leafSha256);
    const steps = parseArray('proof', proof);
    if (steps.length > 64) throw invalid('proof is longer than 64 steps');
    const path: ProofStep[] = steps.map((s, i) => {
      const step = s as Record<string, unknown>;
      return {
        position: assertEnum(`proof[${i}].position`, step?.position, ['L', 'R'] as const),
        sha256: assertSha256(`proof[${i}].sha256`, step?.sha256),
      };
    });
    return rootFromProof(leaf, path) === batch.merkleRoot
      ? { valid: true, reason: `reading is included in batch ${batchId}` }
      : { valid: false, reason: 'proof does not lead to the anchored Merkle root' };
  }

  /** Paged anchors of a thing (evaluate-only): for its controllers, grantees with read, auditors and monitors. */
  @Transaction(false)
  @Returns('DataAnchorPage')
  public async ListDataOfThing(ctx: LedgerContext, thingId: string, pageSize: string, bookmark: string): Promise<DataAnchorPage> {
    const target = await loadAccessTarget(ctx, 'THING', assertId('thingId', thingId));
    enforce(await decideWithGrants(ctx, callerOf(ctx), 'data.read', { target, now: txMillis(ctx) }));
    const page = await pageByPartialKey<unknown>(ctx, KeyType.dataByThing, [thingId], assertPageSize(pageSize), assertBookmark(bookmark));
    const items: DataAnchor[] = [];
    for (const { key } of page.items) items.push(await loadData(ctx, ctx.stub.splitCompositeKey(key).attributes[1]));
    return { items, bookmark: page.bookmark };
  }
}

function parseStorage(value: unknown): StorageLocation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('storage must be {placement, storeId, uri}');
  const s = value as Record<string, unknown>;
  assertOnlyFields('storage', s, ['placement', 'storeId', 'uri']);
  return {
    placement: assertEnum('storage.placement', s.placement, PLACEMENTS),
    storeId: assertId('storage.storeId', s.storeId),
    uri: assertText('storage.uri', s.uri ?? '', 1024),
  };
}

/** Purge the PII record and its staged fingerprint (the thing's secret stays: docs/chaincode.md "PII"). */
async function purgePii(ctx: LedgerContext, collection: string, dataId: string): Promise<void> {
  await ctx.stub.purgePrivateData(collection, keys.pii(ctx.stub, dataId));
  await ctx.stub.purgePrivateData(collection, keys.piiFingerprint(ctx.stub, dataId));
}
