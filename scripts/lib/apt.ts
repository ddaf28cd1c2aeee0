/**
 * A Debian package the scripts need (SoftHSM2, Mosquitto), installed on first use through apt —
 * the machine's one package source besides npm and the Go proxy. Needs root (as CI runs).
 */
import { existsSync } from 'node:fs';
import { log, OperatorError } from './log.js';
import { run } from './proc.js';

/** Install `pkg` unless `file` (a file the package ships) exists already. */
export async function ensureDebianPackage(pkg: string, file: string): Promise<void> {
  if (existsSync(file)) return;
  if (process.getuid?.() !== 0) throw new OperatorError(`${pkg} is not installed (${file} missing): run  sudo apt-get install -y ${pkg}`);
  log.step(`installing ${pkg} (apt-get)`);
  await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', pkg], { timeoutMs: 600_000, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync(file)) throw new OperatorError(`apt-get installed ${pkg}, but ${file} is still missing`);
}
