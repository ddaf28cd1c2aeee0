/**
 * `npm run test:integration`: the integration suite against a real Fabric network of its own
 * (data in .data-test, ports shifted by 10000, so a running `npm start` system is left alone).
 * It brings that network up if it is not running and down again at the end if it started it.
 * The lifecycle test (down / up / reset) runs last.
 */
import './lib/test-env.js';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../network/topology.js';
import { log, main } from './lib/log.js';
import { ROOT } from './lib/paths.js';
import { deploy, networkDown, networkUp } from './network/lifecycle.js';
import { networkStatus } from './network/status.js';

main(async () => {
  const t = loadTopology();
  const dir = join(ROOT, 'test', 'integration');
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();
  const ordered = [...files.filter((f) => f !== 'lifecycle.test.ts'), ...files.filter((f) => f === 'lifecycle.test.ts')];

  const running = await networkStatus(t).catch(() => false);
  if (!running) {
    log.step(`starting the test network (data ${process.env.MVSEC_DATA_DIR}, port offset ${process.env.MVSEC_PORT_OFFSET})`);
    await networkUp(t);
  }
  await deploy(t);
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...ordered.map((f) => join(dir, f))],
    { stdio: 'inherit', cwd: ROOT, env: process.env },
  );
  if (!running) await networkDown(t);
  process.exitCode = result.status ?? 1;
  if (process.exitCode) process.exit(process.exitCode);
});
