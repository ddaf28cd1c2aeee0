/**
 * An enrolment ticket: what an organisation's operator hands a new auditor (over a channel they
 * trust, like a password) so the auditor can enrol an identity with a key made on the auditor's
 * own machine. It carries a one-time enrolment secret and where to reach the CA and a peer; it
 * carries no trust anchor for verification — those the auditor obtains independently (guide §1).
 */
export interface EnrollmentTicket {
  format: 'mvsec-enrollment-ticket';
  version: 1;
  mspId: string;
  enrollmentId: string;
  /** one-time enrolment secret (the CA lets it enrol once) */
  secret: string;
  /** certificate attributes the enrolment asks for (role=auditor, principal) */
  attrs: string[];
  ca: { url: string; caName: string; tlsRootCertPem: string };
  peer: { endpoint: string; tlsRootCertPem: string; serverName?: string };
  channel: string;
  chaincode: string;
}

/** An enrolled identity's folder as `mvsec enroll` writes it and `mvsec export --identity` reads it. */
export const IDENTITY_FILES = { cert: 'cert.pem', key: 'key.pem', connection: 'connection.json', peerTlsCa: 'peer-tls-ca.pem' } as const;

export interface IdentityConnection {
  mspId: string;
  enrollmentId: string;
  /** the peer to export through; its TLS root is the folder's peer-tls-ca.pem */
  peer: { endpoint: string; serverName?: string };
  channel: string;
  chaincode: string;
}

export function parseTicket(text: string): EnrollmentTicket {
  let t: EnrollmentTicket;
  try {
    t = JSON.parse(text) as EnrollmentTicket;
  } catch {
    throw new Error('not an enrolment ticket (not JSON)');
  }
  if (t?.format !== 'mvsec-enrollment-ticket' || t.version !== 1)
    throw new Error('not an enrolment ticket (format mvsec-enrollment-ticket, version 1)');
  for (const k of ['mspId', 'enrollmentId', 'secret', 'channel', 'chaincode'] as const)
    if (typeof t[k] !== 'string' || !t[k]) throw new Error(`enrolment ticket: ${k} missing`);
  if (typeof t.ca?.url !== 'string' || typeof t.ca.caName !== 'string' || typeof t.ca.tlsRootCertPem !== 'string')
    throw new Error('enrolment ticket: ca {url, caName, tlsRootCertPem} missing');
  if (typeof t.peer?.endpoint !== 'string' || typeof t.peer.tlsRootCertPem !== 'string')
    throw new Error('enrolment ticket: peer {endpoint, tlsRootCertPem} missing');
  if (!Array.isArray(t.attrs)) throw new Error('enrolment ticket: attrs missing');
  return t;
}
