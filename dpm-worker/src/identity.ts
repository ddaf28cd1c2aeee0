/**
 * The worker's Fabric identity, enrolled at its organisation's CA (DPMProviderMSP) with the
 * attributes role=dpm and principal=<providerId>: its key is the ECDH key inputs are encrypted to,
 * and it never leaves this process and its MSP folder (mode 700).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerConfig } from './config.js';

export interface Identity {
  mspId: string;
  certificate: string;
  privateKey: KeyObject;
}

const log = (msg: string) => console.error(`${new Date().toISOString()} dpm-worker: ${msg}`);

function fabricCaClient(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const out = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
      reject(
        new Error(
          `fabric-ca-client ${args.slice(0, 1).join(' ')} failed (${err.killed ? 'timeout' : err.message.split('\n')[0]}):\n${out}`,
        ),
      );
    });
  });
}

/** Load the identity from the MSP folder, enrolling first when there is none. */
export async function loadIdentity(
  c: Pick<WorkerConfig, 'mspDir' | 'mspId' | 'enrollId' | 'enrollSecret' | 'ca' | 'fabricCaClient'>,
): Promise<Identity> {
  const certDir = join(c.mspDir, 'signcerts');
  if (!existsSync(certDir) || readdirSync(certDir).length === 0) {
    if (!c.enrollId || !c.enrollSecret) throw new Error(`no identity in ${c.mspDir} and no MVSEC_DPM_ENROLL_ID / _SECRET to enroll one`);
    const net = !c.ca || !c.fabricCaClient ? await import('./network.js') : undefined;
    const ca = c.ca ?? net!.networkCa(c.mspId);
    const binary = c.fabricCaClient ?? net!.networkFabricCaClient();
    mkdirSync(c.mspDir, { recursive: true, mode: 0o700 });
    const u = new URL(ca.url);
    const url = `${u.protocol}//${encodeURIComponent(c.enrollId)}:${encodeURIComponent(c.enrollSecret)}@${u.host}`;
    await fabricCaClient(
      binary,
      ['enroll', '-u', url, '-M', c.mspDir, '--caname', ca.name, '--tls.certfiles', ca.tlsCertFile, '--csr.cn', c.enrollId],
      { FABRIC_CA_CLIENT_HOME: c.mspDir },
      30_000,
    );
    log(`enrolled ${c.enrollId} at ${ca.name}; key kept in ${join(c.mspDir, 'keystore')}`);
  }
  const [certFile] = readdirSync(certDir).filter((f) => f.endsWith('.pem'));
  const keyDir = join(c.mspDir, 'keystore');
  const [keyFile] = readdirSync(keyDir);
  if (!certFile || !keyFile) throw new Error(`${c.mspDir} needs signcerts/*.pem and keystore/<key>`);
  const certificate = readFileSync(join(certDir, certFile), 'utf8');
  const privateKey: KeyObject = createPrivateKey(readFileSync(join(keyDir, keyFile), 'utf8'));
  return { mspId: c.mspId, certificate, privateKey };
}
