/**
 * `npm run dpm:worker`: the reference DPM worker as its own process (docs/dpm.md, dpm-worker/README.md).
 * Configuration: the file named by MVSEC_DPM_CONFIG and/or the MVSEC_DPM_* environment (config.ts).
 */
import { loadConfig } from './config.js';
import { loadIdentity } from './identity.js';
import { DpmWorker } from './worker.js';

const log = (msg: string) => console.error(`${new Date().toISOString()} dpm-worker: ${msg}`);

async function main(): Promise<void> {
  const c = await loadConfig();
  const me = await loadIdentity(c);
  const worker = new DpmWorker(c, me);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => worker.stop());
  await worker.registerKey();
  log(`provider ${c.providerId} polling ${c.gatewayUrl} every ${c.pollMs} ms`);
  await worker.runForever();
  log('stopped');
}

main().catch((e: unknown) => {
  log(`fatal: ${(e as Error).message}`);
  process.exit(1);
});
