/**
 * Runs test files with node's built-in runner (through tsx) and counts results, so the test
 * commands can end with one "N passed, N failed" line that CI reads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface TestCount {
  passed: number;
  failed: number;
}

/** Run `files` in one node --test process; spec output goes to the console. */
export async function runNodeTests(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<TestCount> {
  const dir = mkdtempSync(join(tmpdir(), 'mvsec-test-'));
  const tap = join(dir, 'report.tap');
  try {
    // Asynchronous spawn, so the calling process keeps reaping any node daemons it started.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ],
      { stdio: 'inherit', cwd: ROOT, env },
    );
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const report = readFileSync(tap, 'utf8');
    const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(report)?.[1] ?? 0);
    const result = { passed: count('pass'), failed: count('fail') + count('cancelled') };
    // A crash before any test reported still has to fail the run.
    if (code !== 0 && result.failed === 0) result.failed = 1;
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const add = (a: TestCount, b: TestCount): TestCount => ({ passed: a.passed + b.passed, failed: a.failed + b.failed });
export const summary = (label: string, c: TestCount) => `${label}: ${c.passed} passed, ${c.failed} failed`;
