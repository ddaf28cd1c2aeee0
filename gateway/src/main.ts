/**
 * Server entry: `MVSEC_GATEWAY_CONFIG=<file> npx tsx src/main.ts` in gateway/ (or `npm start -w
 * gateway`; `npm start` at the root writes the file for the local network, scripts/gateway-config.ts).
 * The file (config/schema.ts) names the Fabric network — the organisations served, their peers and
 * CAs — the state folder and the secrets; MVSEC_GATEWAY_* variables override it. Listens on
 * http://127.0.0.1:8080 by default (HTTPS with a certificate, required off loopback). On first
 * start it creates a bootstrap administrator per organisation and prints how to sign in.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { UserStore } from './auth/users.js';
import { loadConfig } from './config.js';
import { FabricLedger } from './ledger/fabric-ledger.js';
import { IdentityService } from './ledger/identities.js';
import { Pkcs11Token } from './crypto/pkcs11.js';
import { monitorFromConfig } from './monitor/index.js';
import { listen } from './server.js';
import { scheduleRetention } from './r2-storage/retention.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const network = config.fabric;
  if (!network)
    throw new Error(
      'no Fabric network configured: set MVSEC_GATEWAY_CONFIG to a gateway configuration file (gateway/src/config/schema.ts)',
    );
  // X6: with a PKCS#11 token configured, principals' keys are made and used in it (a wrong PIN stops the start here)
  const token = config.pkcs11 ? new Pkcs11Token(config.pkcs11) : undefined;
  const identities = new IdentityService(network, config.storageKey, config.stateDir, undefined, token);
  // Each organisation's registrar is enrolled now (or loaded from the state folder); a CA that is
  // down is tried again when a principal first needs an identity.
  await Promise.all(
    network.organizations.map((org) =>
      identities.cas
        .of(org)
        .registrar()
        .catch((e: unknown) => console.error(`gateway: registrar of ${org.mspId} not enrolled yet: ${(e as Error).message}`)),
    ),
  );
  const ledger = new FabricLedger(network, identities, { mvccRetries: config.mvccRetries });
  const users = new UserStore(config.stateDir ? { path: join(config.stateDir, 'users.sealed.json'), key: config.storageKey } : undefined);
  const monitor = await monitorFromConfig(config.monitor, network, identities, ledger, {
    stateDir: config.stateDir,
    rulesFile: join(dirname(fileURLToPath(import.meta.url)), '..', 'monitor-rules.json'),
  });
  const telemetry = config.telemetry ?? {};
  const gateway = createApp(config, { ledger, users, telemetry, ...(monitor ? { monitor } : {}) });
  // X7: stored objects past their thing's retention are expired on the ledger, then erased (storage/retention.ts).
  const retentionMs = config.retentionMs ?? 60 * 60_000;
  const retention =
    gateway.storage && retentionMs > 0
      ? scheduleRetention(gateway.storage, ledger, { everyMs: retentionMs, now: Date.now, log: (m) => console.error(m) })
      : undefined;
  const running = await listen(gateway.app, config);
  const stream = gateway.attachStream(running.server);

  const lines = [`mvsec gateway listening on ${running.url} (API docs ${running.url}/docs, OpenAPI ${running.url}/openapi.json)`];
  if (!config.stateDir) lines.push('note: no stateDir (MVSEC_GATEWAY_STATE_DIR): accounts and enrolled identities live in memory only');
  const secrets: string[] = [];
  for (const org of network.organizations) {
    const username = `admin-${org.name ?? org.mspId.toLowerCase()}`;
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
  const credentialsFile = config.bootstrapFile;
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
