/** A throw-away set of P-256 organisation CAs made with openssl, for tests that need real X.509 chains. */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `openssl req` arguments for a new P-256 key without a passphrase, written to `keyFile`. */
const newP256Key = (keyFile: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];

export class OpensslCas {
  protected readonly dir = mkdtempSync(join(tmpdir(), 'mvsec-pki-'));
  readonly cas = new Map<string, string>();

  protected openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  protected read(file: string): string {
    return readFileSync(join(this.dir, file), 'utf8');
  }

  /** The CA certificate (PEM) of `mspId`, made on first use; its key is `<mspId>.key` in the folder. */
  ca(mspId: string): string {
    if (!this.cas.has(mspId)) {
      this.openssl(
        'req',
        '-x509',
        ...newP256Key(`${mspId}.key`),
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
      this.cas.set(mspId, this.read(`${mspId}.pem`));
    }
    return this.cas.get(mspId)!;
  }

  /** A P-256 leaf `name` with subject `subj`, signed by `issuerMsp`'s CA, with the extensions in `extFile` if given. */
  protected issue(name: string, subj: string, issuerMsp: string, serial: number, extFile?: string): { pem: string; key: KeyObject } {
    this.ca(issuerMsp);
    this.openssl('req', '-new', ...newP256Key(`${name}.key`), '-out', `${name}.csr`, '-subj', subj);
    this.openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuerMsp}.pem`,
      '-CAkey',
      `${issuerMsp}.key`,
      '-set_serial',
      String(serial),
      '-days',
      '30',
      ...(extFile ? ['-extfile', extFile] : []),
      '-out',
      `${name}.pem`,
    );
    return { pem: this.read(`${name}.pem`), key: createPrivateKey(this.read(`${name}.key`)) };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
