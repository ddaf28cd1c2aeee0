/**
 * `mvsec enroll --ticket <file> --out <folder>`: enrol the auditor identity an organisation
 * registered (scripts/auditor.ts). The key pair is made here, on the auditor's machine, and only a
 * certificate request goes to the CA, so nobody else — not the operator, not a gateway — holds
 * the key. Writes cert.pem, key.pem (mode 600) and connection.json (peer, channel) for
 * `mvsec export --identity <folder>`; prints what the CA put in the certificate.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it before it loads
import * as x509 from '@peculiar/x509';
import { FabricCaClient } from '../../gateway/src/ledger/fabric-ca.js';
import { IDENTITY_FILES, parseTicket, type IdentityConnection } from './ticket.js';

/** Fabric CA puts the requested attributes in this extension, as JSON {"attrs": {...}}. */
const FABRIC_ATTRS_OID = '1.2.3.4.5.6.7.8.1';

export interface Enrolment {
  dir: string;
  subject: string;
  attrs: Record<string, string>;
  certSha256: string;
}

export async function enrollFromTicket(ticketFile: string, dir: string): Promise<Enrolment> {
  const ticket = parseTicket(readFileSync(ticketFile, 'utf8'));
  if (existsSync(join(dir, IDENTITY_FILES.key)))
    throw new Error(`${dir} already holds an identity (${IDENTITY_FILES.key}); choose an empty folder`);
  const ca = new FabricCaClient(
    { url: ticket.ca.url, caName: ticket.ca.caName, tlsRootCert: ticketFile },
    Buffer.from(ticket.ca.tlsRootCertPem),
  );
  const { certificate, keyPem } = await ca
    .enroll(ticket.enrollmentId, ticket.secret, { organization: ticket.mspId, attrs: ticket.attrs })
    .catch((e: Error) => {
      if (/HTTP 401/.test(e.message))
        throw new Error(
          `${e.message} — the ticket's secret enrols once and may be used already: ask ${ticket.mspId}'s operator for a new ticket`,
        );
      throw e;
    });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, IDENTITY_FILES.key), keyPem, { mode: 0o600 });
  writeFileSync(join(dir, IDENTITY_FILES.cert), certificate);
  const connection: IdentityConnection = {
    mspId: ticket.mspId,
    enrollmentId: ticket.enrollmentId,
    peer: { endpoint: ticket.peer.endpoint, ...(ticket.peer.serverName ? { serverName: ticket.peer.serverName } : {}) },
    channel: ticket.channel,
    chaincode: ticket.chaincode,
  };
  writeFileSync(join(dir, IDENTITY_FILES.peerTlsCa), ticket.peer.tlsRootCertPem);
  writeFileSync(join(dir, IDENTITY_FILES.connection), JSON.stringify(connection, null, 2) + '\n');
  const cert = new X509Certificate(certificate);
  return {
    dir,
    subject: cert.subject.replace(/\n/g, ', '),
    attrs: fabricAttrs(certificate),
    certSha256: createHash('sha256').update(cert.raw).digest('hex'),
  };
}

/** The attributes a Fabric CA certificate carries (role, principal, hf.*): its extension's value is the JSON text. */
export function fabricAttrs(certPem: string): Record<string, string> {
  const ext = new x509.X509Certificate(certPem).getExtension(FABRIC_ATTRS_OID);
  if (!ext) return {};
  return (JSON.parse(Buffer.from(ext.value).toString('utf8')) as { attrs?: Record<string, string> }).attrs ?? {};
}
