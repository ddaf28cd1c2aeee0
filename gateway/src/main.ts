/**
 * Server entry: `npx tsx gateway/src/main.ts` (or `npm start -w gateway`). Listens on
 * http://127.0.0.1:8080 by default (MVSEC_GATEWAY_HOST / _PORT; HTTPS with MVSEC_GATEWAY_TLS_CERT
 * and _KEY, required off loopback), against the network of MVSEC_DATA_DIR / MVSEC_PORT_OFFSET.
 * On first start it creates a bootstrap administrator per organisation and prints how to sign in.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applicationOrgs, loadTopology } from '../../network/topology.js';
import { createApp } from './app.js';
import { UserStore } from './auth/users.js';
import { loadConfig } from './config.js';
import { FabricLedger } from './ledger/fabric-ledger.js';
import { IdentityService } from './ledger/identities.js';
import { monitorFromEnv } from './monitor/index.js';
import { listen } from './server.js';
import { scheduleRetention } from './r2-storage/retention.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const topology = loadTopology();
  const identities = new IdentityService(topology, config.storageKey, config.stateDir);
  const ledger = new FabricLedger(topology, identities, { mvccRetries: config.mvccRetries });
  const users = new UserStore(config.stateDir ? { path: join(config.stateDir, 'users.sealed.json'), key: config.storageKey } : undefined);
  const monitor = await monitorFromEnv(process.env, topology, identities, ledger, {
    stateDir: config.stateDir,
    rulesFile: join(dirname(fileURLToPath(import.meta.url)), '..', 'monitor-rules.json'),
  });
  const knob = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const telemetry = {
    batchMaxReadings: knob('MVSEC_GATEWAY_TELEMETRY_BATCH'),
    batchMaxWaitMs: knob('MVSEC_GATEWAY_TELEMETRY_BATCH_MS'),
  };
  const gateway = createApp(config, { ledger, users, telemetry, ...(monitor ? { monitor } : {}) });
  // X7: stored objects past their thing's retention are expired on the ledger, then erased (storage/retention.ts).
  const retentionMs = knob('MVSEC_GATEWAY_RETENTION_MS') ?? 60 * 60_000;
  const retention =
    gateway.storage && retentionMs > 0
      ? scheduleRetention(gateway.storage, ledger, { everyMs: retentionMs, now: Date.now, log: (m) => console.error(m) })
      : undefined;
  const running = await listen(gateway.app, config);
  const stream = gateway.attachStream(running.server);

  const lines = [`mvsec gateway listening on ${running.url} (API docs ${running.url}/docs, OpenAPI ${running.url}/openapi.json)`];
  if (!config.stateDir) lines.push('note: MVSEC_GATEWAY_STATE_DIR is not set: accounts and enrolled identities live in memory only');
  const secrets: string[] = [];
  for (const org of applicationOrgs(topology)) {
    const username = `admin-${org.key}`;
    if (users.has(username)) continue;
    const password = randomBytes(12).toString('base64url');
    const { totp } = await gateway.login.createUser({ username, password, mspId: org.mspId, role: 'admin', principal: username });
    secrets.push(
      `bootstrap administrator of ${org.mspId}: username ${username}  password ${password}`,
      `  TOTP (add to an authenticator app): ${totp!.uri}`,
    );
  }
  lines.push(`sign in: POST ${running.url}/auth/login {"username","password","totp"} → use the accessToken as "Authorization: Bearer …"`);
  // Bootstrap passwords must not end up in a daemon's log: `npm start` names a private file for
  // them. It is written only when administrators were created, so a restart keeps the first one.
  const credentialsFile = process.env.MVSEC_GATEWAY_BOOTSTRAP_FILE;
  if (credentialsFile) {
    if (secrets.length) writeFileSync(credentialsFile, `${[...secrets, lines[lines.length - 1]].join('\n')}\n`, { mode: 0o600 });
    console.log(lines.join('\n'));
  } else {
    console.log([...lines, ...secrets].join('\n'));
  }

  const stop = async () => {
    retention?.stop();
    stream.close();
    await gateway.telemetry.flush();
    gateway.telemetry.close();
    await running.close();
    await monitor?.stop();
    ledger.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`gateway: ${(e as Error).message}`);
  process.exit(1);
});
