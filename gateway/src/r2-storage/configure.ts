/**
 * The gateway's object store from its configuration: the local filesystem backend (default,
 * ON_PLATFORM) in `<dir>/objects`, plus the S3-compatible backend when MVSEC_S3_ENDPOINT is set.
 * Used by the gateway and by the storage command (cli/storage.ts), so both see the same stores.
 */
import type { GatewayConfig } from '../config.js';
import { S3Backend } from './s3-backend.js';
import { ObjectStore } from './store.js';

export function objectStoreFor(dir: string, config: Pick<GatewayConfig, 'storageKey' | 's3'>): ObjectStore {
  return new ObjectStore({
    dir,
    storageKey: config.storageKey,
    extraBackends: config.s3 ? [new S3Backend(config.s3)] : [],
  });
}
