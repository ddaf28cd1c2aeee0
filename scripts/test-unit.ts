/**
 * `npm run test:unit`: every *.test.ts under test/unit and chaincode/test, no network needed.
 * (Node 20's test runner does not expand globs itself.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main, OperatorError } from './lib/log.js';
import { runNodeTests, summary, type TestCount } from './lib/node-test.js';
import { ROOT } from './lib/paths.js';

export async function unitTests(): Promise<TestCount> {
  const roots = ['test/unit', 'chaincode/test'].map((d) => join(ROOT, d)).filter(existsSync);
  const files = roots
    .flatMap((r) => readdirSync(r, { recursive: true, encoding: 'utf8' }).map((f) => join(r, f)))
    .filter((f) => f.endsWith('.test.ts'))
    .sort();
  if (files.length === 0) throw new OperatorError('no unit test files found');
  return runNodeTests(files);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(async () => {
    const c = await unitTests();
    console.log(summary('unit', c));
    if (c.failed) process.exit(1);
  });
}
