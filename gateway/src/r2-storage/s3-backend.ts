/**
 * S3-compatible object backend (S2: external storage connected as data volume grows). Stores the
 * same opaque, content-addressed, encrypted blobs as the local backend, under
 * `<prefix>objects/<address>` in one bucket; it never sees a key or a plaintext byte.
 *
 * - Write: the encrypted stream goes straight into a multipart upload (lib-storage `Upload`,
 *   `partSize × queueSize` bytes buffered at most) under a temporary key `<prefix>.tmp/<random>`;
 *   the content address is known only at the end, so `commit` copies server-side to the final key
 *   and deletes the temporary one (S3 has no rename). A failed or aborted write deletes it.
 * - Read: `open` pins the object's ETag (HeadObject); every `stream()` is a GetObject with
 *   `If-Match: <etag>`, so both read passes of verify-before-serve see the same version — a
 *   replaced object fails with "changed while it was being read", never mixes versions.
 * - Errors from the S3 server (unreachable, refused credentials, no bucket) are
 *   StorageUnavailableError (the routes answer 503), never blamed on the client.
 *
 * Configuration from the environment: see `s3ConfigFromEnv` and docs/storage.md.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import { PassThrough, pipeline, Writable, type Readable } from 'node:stream';
import {
  assertAddress,
  StorageUnavailableError,
  type ObjectBackend,
  type ObjectReader,
  type ObjectWriter,
  type Placement,
} from './backend.js';
import { IntegrityError } from './format.js';

const MIB = 1024 * 1024;
/** S3's CopyObject limit; larger objects would need UploadPartCopy (not needed below the 4 GiB default object limit). */
const MAX_COPY_BYTES = 5 * 1024 * MIB;

export interface S3BackendConfig {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`http://host/bucket/key`), what self-hosted S3 servers expect. Default true. */
  forcePathStyle: boolean;
  /** The store id recorded on the ledger and matched against a thing's policy `storageIds`. */
  storeId: string;
  /** EXTERNAL (default) or ON_PLATFORM: what the thing's policy `storage` is compared with. */
  placement: Placement;
  /** Key prefix inside the bucket (e.g. `mvsec/`); empty by default. */
  prefix: string;
  /** Multipart part size (bytes, ≥ 5 MiB) and parts in flight: memory per upload ≈ partSize × (queueSize + 1). */
  partSize: number;
  queueSize: number;
}

const STORE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The S3 backend's configuration from MVSEC_S3_* variables; undefined when MVSEC_S3_ENDPOINT is
 * not set. Throws (with what to set) when the configuration is incomplete or malformed.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3BackendConfig | undefined {
  const endpoint = env.MVSEC_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`MVSEC_S3_ENDPOINT is set, so ${name} must be set too (docs/storage.md, S3 backend)`);
    return v;
  };
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`MVSEC_S3_ENDPOINT must be a URL such as http://127.0.0.1:8333, not "${endpoint}"`);
  }
  const storeId = env.MVSEC_S3_STORE_ID ?? 's3';
  if (!STORE_ID.test(storeId)) throw new Error(`MVSEC_S3_STORE_ID "${storeId}" is not a valid store id (letters, digits, . _ : -)`);
  const placement = (env.MVSEC_S3_PLACEMENT ?? 'EXTERNAL') as Placement;
  if (placement !== 'EXTERNAL' && placement !== 'ON_PLATFORM') throw new Error('MVSEC_S3_PLACEMENT must be EXTERNAL or ON_PLATFORM');
  const prefix = env.MVSEC_S3_PREFIX ?? '';
  if (prefix && !/^[A-Za-z0-9._/-]+\/$/.test(prefix)) throw new Error('MVSEC_S3_PREFIX must end with "/" (e.g. mvsec/)');
  const partMiB = Number(env.MVSEC_S3_PART_MIB ?? 8);
  const queueSize = Number(env.MVSEC_S3_QUEUE ?? 2);
  if (!Number.isInteger(partMiB) || partMiB < 5 || partMiB > 512) throw new Error('MVSEC_S3_PART_MIB must be an integer 5 … 512');
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 16) throw new Error('MVSEC_S3_QUEUE must be an integer 1 … 16');
  const fps = (env.MVSEC_S3_FORCE_PATH_STYLE ?? 'true').toLowerCase();
  return {
    endpoint,
    bucket: need('MVSEC_S3_BUCKET'),
    region: env.MVSEC_S3_REGION ?? 'us-east-1',
    accessKeyId: need('MVSEC_S3_ACCESS_KEY_ID'),
    secretAccessKey: need('MVSEC_S3_SECRET_ACCESS_KEY'),
    forcePathStyle: !['false', '0', 'no'].includes(fps),
    storeId,
    placement,
    prefix,
    partSize: partMiB * MIB,
    queueSize,
  };
}

const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const isNotFound = (e: unknown) => statusOf(e) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes((e as Error)?.name ?? '');

export class S3Backend implements ObjectBackend {
  readonly storeId: string;
  readonly placement: Placement;
  readonly bucket: string;
  readonly client: S3Client;

  constructor(readonly config: S3BackendConfig) {
    this.storeId = config.storeId;
    this.placement = config.placement;
    this.bucket = config.bucket;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Plain Content-MD5/SigV4 payload hashing only: the optional CRC trailers are not spoken by every S3 server.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  /** The bucket key of an object. */
  key(address: string): string {
    return `${this.config.prefix}objects/${assertAddress(address)}`;
  }

  uri(address: string): string {
    return `s3://${this.bucket}/${this.key(address)}`;
  }

  /** Wrap an S3 failure: what failed, where, and why (503 at the routes). */
  private unavailable(what: string, e: unknown): Error {
    if (e instanceof IntegrityError || e instanceof StorageUnavailableError) return e;
    const status = statusOf(e);
    const name = (e as Error)?.name ?? 'Error';
    const msg = (e as Error)?.message ?? String(e);
    return new StorageUnavailableError(
      `S3 store ${this.storeId} (${this.config.endpoint}, bucket ${this.bucket}): ${what} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${msg}`,
    );
  }

  /** Create the bucket when it does not exist (tools and tests; a production bucket is provisioned). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (e) {
      if (!isNotFound(e)) throw this.unavailable('HeadBucket', e);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((e as Error).name)) throw this.unavailable('CreateBucket', e);
    }
  }

  async writer(): Promise<ObjectWriter> {
    const tmpKey = `${this.config.prefix}.tmp/${randomBytes(12).toString('hex')}.part`;
    const sink = new UploadSink(this, tmpKey);
    const removeTmp = async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: tmpKey })).catch(() => undefined);
    };
    return {
      stream: sink,
      commit: async (address: string) => {
        const key = this.key(address);
        if (!sink.completed) throw new Error('commit before the upload finished');
        if (sink.bytes > MAX_COPY_BYTES) {
          await removeTmp();
          throw new StorageUnavailableError(`object of ${sink.bytes} bytes exceeds the 5 GiB the S3 backend can commit with CopyObject`);
        }
        try {
          await this.client.send(
            new CopyObjectCommand({
              Bucket: this.bucket,
              Key: key,
              CopySource: `${this.bucket}/${tmpKey.split('/').map(encodeURIComponent).join('/')}`,
              ContentType: 'application/octet-stream',
              MetadataDirective: 'REPLACE',
            }),
          );
        } catch (e) {
          await removeTmp();
          throw this.unavailable(`committing object ${address}`, e);
        }
        await removeTmp();
      },
      abort: async () => {
        sink.destroy();
        await sink.settled;
        await removeTmp();
      },
    };
  }

  async open(address: string): Promise<ObjectReader | undefined> {
    const Key = this.key(address);
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.unavailable(`HeadObject ${Key}`, e);
    }
    const size = Number(head.ContentLength ?? 0);
    const etag = head.ETag;
    const inflight = new Set<AbortController>();
    return {
      size,
      stream: () => {
        const out = new PassThrough({ highWaterMark: MIB });
        const ac = new AbortController();
        inflight.add(ac);
        out.on('close', () => {
          inflight.delete(ac);
          if (!out.readableEnded) ac.abort();
        });
        this.client
          .send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(etag ? { IfMatch: etag } : {}) }), { abortSignal: ac.signal })
          .then((r) => {
            if (Number(r.ContentLength ?? size) !== size)
              throw new IntegrityError(`object ${address} changed while it was being read (size ${r.ContentLength}, was ${size})`);
            pipeline(r.Body as Readable, out, (err) => {
              if (err && !out.destroyed) out.destroy(this.unavailable(`reading ${Key}`, err));
            });
          })
          .catch((e: unknown) => {
            if (out.destroyed) return;
            if (statusOf(e) === 412 || isNotFound(e))
              out.destroy(new IntegrityError(`object ${address} changed or vanished while it was being read (${(e as Error).name})`));
            else out.destroy(this.unavailable(`GetObject ${Key}`, e));
          });
        return out;
      },
      close: async () => {
        for (const ac of inflight) ac.abort();
        inflight.clear();
      },
    };
  }

  async remove(address: string): Promise<boolean> {
    const Key = this.key(address);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.unavailable(`HeadObject ${Key}`, e);
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      throw this.unavailable(`DeleteObject ${Key}`, e);
    }
    return true;
  }

  async *list(): AsyncIterable<string> {
    const Prefix = `${this.config.prefix}objects/`;
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }));
      } catch (e) {
        if (isNotFound(e)) return;
        throw this.unavailable('ListObjectsV2', e);
      }
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? '').slice(Prefix.length);
        if (/^[0-9a-f]{64}$/.test(name)) yield name;
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** Readiness: store, read back and delete a small object under `<prefix>.probe/`. */
  async probe(): Promise<void> {
    const Key = `${this.config.prefix}.probe/${randomBytes(8).toString('hex')}`;
    const body = randomBytes(32);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body }));
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const got = Buffer.from(await r.Body!.transformToByteArray());
      if (!got.equals(body)) throw new Error('the probe object read back differently');
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      throw this.unavailable('the readiness probe', e);
    }
  }

  /** For tools and tests: the raw stored bytes of an object, straight from the S3 API. */
  async getRaw(address: string): Promise<Buffer> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(address) }));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  /** For tools and tests: overwrite an object's raw bytes through the S3 API. */
  async putRaw(address: string, bytes: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(address), Body: bytes }));
  }

  /** Whether an object exists (HeadObject). */
  async exists(address: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(address) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.unavailable('HeadObject', e);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/**
 * A Writable that feeds a multipart upload. It finishes only when the upload has completed on
 * the server, so `pipeline(source, encrypt, sink)` resolving means the bytes are stored; an
 * upload failure errors the sink (and so the pipeline); destroying it aborts the upload.
 */
class UploadSink extends Writable {
  completed = false;
  bytes = 0;
  /** Resolves (never rejects) once the upload has completed, failed, or been aborted. */
  readonly settled: Promise<Error | undefined>;
  private readonly body = new PassThrough({ highWaterMark: MIB });
  private readonly upload: Upload;

  constructor(
    private readonly backend: S3Backend,
    key: string,
  ) {
    super({ highWaterMark: MIB });
    this.upload = new Upload({
      client: backend.client,
      params: { Bucket: backend.bucket, Key: key, Body: this.body, ContentType: 'application/octet-stream' },
      partSize: backend.config.partSize,
      queueSize: backend.config.queueSize,
      leavePartsOnError: false,
    });
    this.settled = this.upload.done().then(
      () => {
        this.completed = true;
        return undefined;
      },
      (e: unknown) => {
        const err =
          e instanceof Error && e.name === 'AbortError'
            ? e
            : new StorageUnavailableError(
                `S3 store ${backend.storeId} (${backend.config.endpoint}, bucket ${backend.bucket}): upload failed: ${(e as Error)?.name}: ${(e as Error)?.message}`,
              );
        if (!this.destroyed) this.destroy(err);
        return err;
      },
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.bytes += chunk.length;
    if (this.body.write(chunk)) cb();
    else this.body.once('drain', () => cb());
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.body.end();
    void this.settled.then((err) => cb(err ?? null));
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.completed) {
      // An error (not a plain end) on the body: the upload must not complete with a partial object.
      void this.upload.abort().catch(() => undefined);
      this.body.destroy(err ?? new Error('upload aborted'));
    }
    cb(err);
  }

  /** The backend this sink uploads to (for messages). */
  get storeId(): string {
    return this.backend.storeId;
  }
}
