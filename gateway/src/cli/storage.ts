/**
 * `npm run storage -- <command>`: backup, restore and verification of the gateway's off-chain
 * object store (X6, F2, S1), local and S3 backends alike, with the store functions the gateway uses.
 *
 *   npm run storage -- backup <dir>     every object (re-hashed against its address), wrapped keys,
 *                                        sealed keyring and index into an empty <dir>
 *   npm run storage -- restore <dir>    into an empty store, then the verification pass
 *   npm run storage -- verify [--json]  every index entry against the ledger's anchor (read as an
 *                                        auditor): decrypts each object completely and checks its
 *                                        fingerprint, size, key id and location; shreds what the
 *                                        ledger has deleted since; prints a summary
 *   npm run storage -- expire [--json]  retention (X7): asks the ledger to expire every object past
 *                                        its thing's retentionDays (data:ExpireData as the data
 *                                        organisation's storage agent), then erases it and destroys
 *                                        its key — what the gateway does every hour
 *
 * Exit codes: 0 all good; 1 an integrity failure (a verification mismatch, a damaged object in a
 * backup or restore); 2 a usage, configuration or availability problem (nothing was judged).
 *
 * The store, its key, the S3 backend and the Fabric network are the gateway's: its configuration
 * file (MVSEC_GATEWAY_CONFIG, else the one `npm start` writes, <MVSEC_DATA_DIR or ./.data>/gateway/
 * gateway-config.json, when it exists) with the same MVSEC_GATEWAY_* / MVSEC_S3_* overrides as the
 * gateway (config/load.ts): MVSEC_GATEWAY_STORAGE_DIR, else <stateDir>/storage. The ledger is read
 * as principal `storage-verifier` with role auditor of MVSEC_STORAGE_VERIFY_MSP (default
 * IoTPlatformMSP). Run restore with the gateway stopped.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Caller } from '../auth/principal.js';
import { loadConfig, type GatewayConfig } from '../config/load.js';
import { LedgerClient } from '../ledger/client.js';
import { isRefusal } from '../ledger/errors.js';
import { FabricLedger } from '../ledger/fabric-ledger.js';
import { IdentityService } from '../ledger/identities.js';
import { objectStoreFor } from '../r2-storage/configure.js';
import { IntegrityError } from '../r2-storage/format.js';
import { expireDue } from '../r2-storage/retention.js';
import type { LedgerFacts, ObjectStore, VerifyReport } from '../r2-storage/store.js';

export const EXIT = { ok: 0, integrity: 1, usage: 2 } as const;

const USAGE = 'usage: npm run storage -- backup <dir> | restore <dir> | verify [--json] | expire [--json]';

class UsageError extends Error {}

/** The gateway's configuration: MVSEC_GATEWAY_CONFIG, else `npm start`'s file when there is one, with the environment over it. */
function configOf(env: NodeJS.ProcessEnv): GatewayConfig {
  const npmStart = join(resolve(env.MVSEC_DATA_DIR ?? '.data'), 'gateway', 'gateway-config.json');
  const file = env.MVSEC_GATEWAY_CONFIG ?? (existsSync(npmStart) ? npmStart : undefined);
  const storageKeyGiven = !!env.MVSEC_GATEWAY_STORAGE_KEY;
  try {
    const c = loadConfig({ ...env, ...(file ? { MVSEC_GATEWAY_CONFIG: file } : {}) });
    if (!storageKeyGiven && !file) throw new UsageError('no storage key');
    return c;
  } catch (e) {
    if (e instanceof UsageError || /STORAGE_KEY|storageKeyFile/.test((e as Error).message))
      throw new UsageError(
        `no storage key: set MVSEC_GATEWAY_STORAGE_KEY (the gateway's, 32 bytes hex or base64) or MVSEC_GATEWAY_CONFIG (a configuration naming secrets.storageKeyFile)`,
      );
    throw new UsageError(`configuration: ${(e as Error).message}`);
  }
}

/** The gateway's store, configured like the gateway itself. */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): { store: ObjectStore; storageKey: Buffer; config: GatewayConfig } {
  const config = configOf(env);
  const dir = config.storageDir ?? (config.stateDir ? join(config.stateDir, 'storage') : undefined);
  if (!dir)
    throw new UsageError('no object store: set MVSEC_GATEWAY_STORAGE_DIR or MVSEC_GATEWAY_STATE_DIR (or stateDir in MVSEC_GATEWAY_CONFIG)');
  if (!existsSync(dir)) throw new UsageError(`no object store at ${dir} (set MVSEC_GATEWAY_STORAGE_DIR or MVSEC_GATEWAY_STATE_DIR)`);
  const { storageKey, s3 } = config;
  return { store: objectStoreFor(dir, { storageKey, ...(s3 ? { s3 } : {}) }), storageKey, config };
}

const fabricLedger = (config: GatewayConfig) => {
  if (!config.fabric) throw new UsageError('no Fabric network: set MVSEC_GATEWAY_CONFIG to the gateway configuration file');
  return new FabricLedger(config.fabric, new IdentityService(config.fabric, config.storageKey));
};

/** The ledger's anchor of a data id, read as an auditor; undefined when the ledger has none. */
function ledgerLookup(
  env: NodeJS.ProcessEnv,
  config: GatewayConfig,
): { lookup: (dataId: string) => Promise<LedgerFacts | undefined>; close(): void } {
  const ledger = fabricLedger(config);
  const data = new LedgerClient(ledger).data;
  const caller: Caller = {
    principal: 'storage-verifier',
    mspId: env.MVSEC_STORAGE_VERIFY_MSP ?? 'IoTPlatformMSP',
    role: 'auditor',
    issuer: 'gateway',
    amr: ['cli'],
  };
  return {
    lookup: async (dataId) => {
      try {
        return await data.get(caller, dataId);
      } catch (e) {
        if (isRefusal(e, 'NOT_FOUND')) return undefined;
        throw e;
      }
    },
    close: () => ledger.close(),
  };
}

/** Print the verification report; true when nothing failed. */
function printReport(r: VerifyReport & { orphans: string[] }, json: boolean): boolean {
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    for (const f of r.failed) console.log(`FAILED  ${f.dataId}: ${f.reason}`);
    for (const d of r.shredded) console.log(`SHREDDED ${d}: deleted on the ledger; object erased, key destroyed now`);
    for (const a of r.orphans) console.log(`ORPHAN  object ${a}: in a backend but in no index entry (not anchored; removable)`);
    console.log(
      `verified ${r.checked} entries against the ledger: ${r.ok.length} ok, ${r.failed.length} failed, ` +
        `${r.shredded.length} shredded, ${r.deleted.length} deleted (tombstones), ${r.orphans.length} orphan objects`,
    );
  }
  return r.failed.length === 0;
}

async function verify(store: ObjectStore, config: GatewayConfig, env: NodeJS.ProcessEnv, json: boolean): Promise<number> {
  const ledger = ledgerLookup(env, config);
  try {
    // Every lookup failing means the ledger is unreachable: that is not a verdict on the objects.
    const probe = (await store.entries())[0];
    if (probe) await ledger.lookup(probe.dataId);
    const report = await store.verifyAll(ledger.lookup);
    return printReport({ ...report, orphans: await store.orphans() }, json) ? EXIT.ok : EXIT.integrity;
  } finally {
    ledger.close();
  }
}

/** Run one command; returns the exit code. Messages go to stdout/stderr. */
export async function runStorageCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    const json = rest.includes('--json');
    const args = rest.filter((a) => a !== '--json');
    if (cmd === 'backup' || cmd === 'restore') {
      if (args.length !== 1) throw new UsageError(USAGE);
      const { store, config } = storeFromEnv(env);
      if (cmd === 'backup') {
        const b = await store.backup(args[0]);
        console.log(
          `backed up ${b.objects} objects (${b.bytes} bytes), ${b.keys} wrapped keys, ${b.entries} index entries into ${args[0]}`,
        );
        return EXIT.ok;
      }
      if (!(await store.isEmpty())) throw new UsageError(`restore needs an empty store; ${store.dir} (or its S3 bucket/prefix) holds data`);
      const r = await store.restore(args[0]);
      console.log(`restored ${r.objects} objects, ${r.keys} wrapped keys, ${r.entries} index entries from ${args[0]}`);
      return await verify(store, config, env, json);
    }
    if (cmd === 'expire') {
      if (args.length !== 0) throw new UsageError(USAGE);
      const { store, config } = storeFromEnv(env);
      const ledger = fabricLedger(config);
      try {
        const r = await expireDue(store, ledger, { now: Date.now() });
        if (json) console.log(JSON.stringify(r, null, 2));
        else {
          for (const d of r.expired) console.log(`EXPIRED ${d}: deletion recorded on the ledger; object erased, key destroyed`);
          for (const f of r.failed) console.log(`FAILED  ${f.dataId}: ${f.reason}`);
          console.log(
            `retention: ${r.checked} stored objects, ${r.expired.length} expired, ${r.notDue} not due, ${r.failed.length} failed`,
          );
        }
        return r.failed.length ? EXIT.usage : EXIT.ok;
      } finally {
        ledger.close();
      }
    }
    if (cmd === 'verify') {
      if (args.length !== 0) throw new UsageError(USAGE);
      const { store, config } = storeFromEnv(env);
      return await verify(store, config, env, json);
    }
    throw new UsageError(USAGE);
  } catch (e) {
    if (e instanceof IntegrityError) {
      console.error(`INTEGRITY: ${e.message}`);
      return EXIT.integrity;
    }
    console.error(e instanceof UsageError ? e.message : `storage: ${(e as Error).message}`);
    return EXIT.usage;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runStorageCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(EXIT.usage);
    },
  );
}
