/** A throw-away PKI for the DPM envelope tests: one P-256 CA per organisation and leaves with Fabric-style attrs (openssl). */
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpensslCas } from '../support/openssl-ca.js';

export interface Leaf {
  mspId: string;
  certificate: string;
  privateKey: KeyObject;
}

export class Pki extends OpensslCas {
  private n = 0;

  /** A leaf certificate of `mspId` issued by `issuerMsp`'s CA (default its own), carrying Fabric attrs. */
  leaf(mspId: string, cn: string, attrs: Record<string, string> = {}, issuerMsp = mspId): Leaf {
    const id = `leaf${++this.n}`;
    const attrJson = JSON.stringify({ attrs });
    writeFileSync(join(this.dir, `${id}.ext`), `1.2.3.4.5.6.7.8.1=DER:${Buffer.from(attrJson, 'utf8').toString('hex')}\n`);
    const { pem, key } = this.issue(id, `/O=${mspId}/CN=${cn}`, issuerMsp, 1000 + this.n, `${id}.ext`);
    return { mspId, certificate: pem, privateKey: key };
  }

  close(): void {
    this.dispose();
  }
}
