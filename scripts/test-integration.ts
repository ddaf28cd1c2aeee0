/**
 * `npm run test:integration`: the integration suite against a real Fabric network of its own
 * (data in .data-test, ports shifted by 10000, so a running `npm start` system is left alone).
 * It brings that network up if it is not running and down again at the end if it started it.
 * Files run one at a time; the lifecycle test (down / up / reset) runs last. A real S3-compatible
 * server (SeaweedFS, built from the Go module proxy on first use) runs beside the network for the
 * S3 backend's tests, started here if it is not running and stopped again at the end.
 */
import './lib/test-env.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../network/topology.js';
import { log, main } from './lib/log.js';
import { add, runNodeTests, summary, type TestCount } from './lib/node-test.js';
import { ROOT } from './lib/paths.js';
import { deploy, networkDown, networkUp } from './network/lifecycle.js';
import { networkStatus } from './network/status.js';
import { s3ServerRunning, startS3Server, stopS3Server } from './s3/server.js';

export async function integrationTests(): Promise<TestCount> {
  const t = loadTopology();
  const dir = join(ROOT, 'test', 'integration');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
  const ordered = [...files.filter((f) => f !== 'lifecycle.test.ts'), ...files.filter((f) => f === 'lifecycle.test.ts')];

  const running = await networkStatus(t).catch(() => false);
  if (!running) {
    log.step(`starting the test network (data ${process.env.MVSEC_DATA_DIR}, port offset ${process.env.MVSEC_PORT_OFFSET})`);
    await networkUp(t);
  }
  await deploy(t);
  let total: TestCount = { passed: 0, failed: 0 };
  let s3Started = false;
  try {
    if (!s3ServerRunning()) s3Started = (await startS3Server()).started;
    for (const f of ordered) {
      // The lifecycle test resets the data dir, pid files included: the S3 server stops before it.
      if (f === 'lifecycle.test.ts' && s3Started) s3Started = !(await stopS3Server());
      total = add(total, await runNodeTests([join(dir, f)]));
    }
  } finally {
    if (s3Started) await stopS3Server();
    if (!running) await networkDown(t);
  }
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(async () => {
    const c = await integrationTests();
    console.log(summary('integration', c));
    if (c.failed) process.exit(1);
  });
}
