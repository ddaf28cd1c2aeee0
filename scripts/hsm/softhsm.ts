/**
 * SoftHSM2 (Debian `softhsm2`) as the PKCS#11 token of tests and demos (X6): a token in a folder
 * of its own, initialised with a user PIN and a random SO PIN. The module reads its configuration
 * from SOFTHSM2_CONF when it is loaded, so set it (softHsmEnv) before a token is opened.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from '../lib/apt.js';
import { run } from '../lib/proc.js';

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  library: string;
  tokenLabel: string;
  pin: string;
  /** SOFTHSM2_CONF for this token's folder */
  conf: string;
}

/** Install SoftHSM2 if needed and initialise a token `label` under `dir`. */
export async function initSoftHsmToken(dir: string, label: string, pin: string): Promise<SoftHsmToken> {
  await ensureDebianPackage('softhsm2', SOFTHSM_LIBRARY);
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', randomBytes(12).toString('hex')], {
    env: { SOFTHSM2_CONF: conf },
    timeoutMs: 30_000,
  });
  return { library: SOFTHSM_LIBRARY, tokenLabel: label, pin, conf };
}
