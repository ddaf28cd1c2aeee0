/** A throw-away PKI for the DPM envelope tests: one P-256 CA per organisation and leaves with Fabric-style attrs (openssl). */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf {
  mspId: string;
  certificate: string;
  privateKey: KeyObject;
}

export class Pki {
  private readonly dir = mkdtempSync(join(tmpdir(), 'mvsec-dpm-pki-'));
  readonly cas = new Map<string, string>();
  private n = 0;

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  ca(mspId: string): string {
    if (!this.cas.has(mspId)) {
      this.openssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${mspId}.key`,
        '-out',
        `${mspId}.pem`,
        '-days',
        '30',
        '-subj',
        `/O=${mspId}/CN=ca.${mspId}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,digitalSignature',
      );
      this.cas.set(mspId, readFileSync(join(this.dir, `${mspId}.pem`), 'utf8'));
    }
    return this.cas.get(mspId)!;
  }

  /** A leaf certificate of `mspId` issued by `issuerMsp`'s CA (default its own), carrying Fabric attrs. */
  leaf(mspId: string, cn: string, attrs: Record<string, string> = {}, issuerMsp = mspId): Leaf {
    this.ca(issuerMsp);
    const id = `leaf${++this.n}`;
    this.openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${id}.ec`);
    this.openssl('pkcs8', '-topk8', '-nocrypt', '-in', `${id}.ec`, '-out', `${id}.key`);
    this.openssl('req', '-new', '-key', `${id}.key`, '-out', `${id}.csr`, '-subj', `/O=${mspId}/CN=${cn}`);
    const attrJson = JSON.stringify({ attrs });
    writeFileSync(join(this.dir, `${id}.ext`), `1.2.3.4.5.6.7.8.1=DER:${Buffer.from(attrJson, 'utf8').toString('hex')}\n`);
    this.openssl(
      'x509',
      '-req',
      '-in',
      `${id}.csr`,
      '-CA',
      `${issuerMsp}.pem`,
      '-CAkey',
      `${issuerMsp}.key`,
      '-set_serial',
      String(1000 + this.n),
      '-days',
      '10',
      '-extfile',
      `${id}.ext`,
      '-out',
      `${id}.pem`,
    );
    return {
      mspId,
      certificate: readFileSync(join(this.dir, `${id}.pem`), 'utf8'),
      privateKey: createPrivateKey(readFileSync(join(this.dir, `${id}.key`), 'utf8')),
    };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
