/**
 * `npm run auditor:register -- --org <key|MSP> --name <id> --ticket <file>`: the operator of an
 * organisation the ledger designates for auditing (governance role issuers, trust rule 1)
 * registers an auditor at its CA — role=auditor, principal=<id>, a random secret that enrols
 * once — and writes an enrolment ticket (mode 600) to hand to the auditor, who then runs
 * `mvsec enroll --ticket <file> --out <dir>` and so holds the only copy of the private key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EnrollmentTicket } from '../audit/src/ticket.js';
import { applicationOrgs, endpoint, loadTopology } from '../network/topology.js';
import { log, main, OperatorError } from './lib/log.js';
import { caEndpoint, enroll, orgCaCert, registerForOthers } from './network/ca.js';
import { connectAs } from './network/client.js';

const USAGE = 'usage: npm run auditor:register -- --org <key|MSP id> --name <auditor id> --ticket <file>';

main(async () => {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== 'register'),
    options: { org: { type: 'string' }, name: { type: 'string' }, ticket: { type: 'string' } },
  });
  if (!values.org || !values.name || !values.ticket) throw new OperatorError(USAGE);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(values.name)) throw new OperatorError('--name: letters, digits, . _ - (at most 64)');
  const t = loadTopology();
  const orgs = applicationOrgs(t);
  const org = orgs.find((o) => o.key === values.org || o.mspId === values.org);
  if (!org) throw new OperatorError(`no organisation ${values.org}; one of ${orgs.map((o) => o.key).join(', ')}`);
  const via = org.peers.length ? org : orgs.find((o) => o.peers.length > 0)!;

  // The ledger says which organisations may issue auditors; a certificate from any other CA would be refused by the chaincode.
  const adminName = 'admin-onboarding';
  await enroll(org, { name: adminName, type: 'client', attrs: { role: 'admin', principal: adminName } });
  const conn = connectAs(org, adminName, { org: via });
  let issuers: { issuers: { role: string; anyMember: boolean; mspIds: string[] }[]; version: number };
  try {
    const contract = conn.gateway.getNetwork(t.channel).getContract(t.chaincode.name, 'governance');
    issuers = JSON.parse(Buffer.from(await contract.evaluateTransaction('GetRoleIssuers')).toString('utf8'));
  } finally {
    conn.close();
  }
  const entry = issuers.issuers.find((i) => i.role === 'auditor');
  if (!entry || !(entry.anyMember || entry.mspIds.includes(org.mspId)))
    throw new OperatorError(
      `${org.mspId} may not issue auditors: the ledger's role issuers (version ${issuers.version}) name ${entry?.mspIds.join(', ') || 'none'} for role auditor`,
    );

  const secret = await registerForOthers(org, { name: values.name, type: 'client', attrs: { role: 'auditor', principal: values.name } });
  const ca = caEndpoint(org);
  const peer = via.peers[0];
  const ticket: EnrollmentTicket = {
    format: 'mvsec-enrollment-ticket',
    version: 1,
    mspId: org.mspId,
    enrollmentId: values.name,
    secret,
    attrs: ['role', 'principal'],
    ca: { url: ca.url, caName: ca.caName, tlsRootCertPem: readFileSync(ca.tlsCaFile, 'utf8') },
    peer: {
      endpoint: endpoint(peer),
      tlsRootCertPem: readFileSync(orgCaCert(via.key), 'utf8'),
      // certificates name hosts as DNS names; an IP address endpoint is checked against localhost
      ...(/^[\d.]+$/.test(peer.host) ? { serverName: 'localhost' } : {}),
    },
    channel: t.channel,
    chaincode: t.chaincode.name,
  };
  writeFileSync(values.ticket, JSON.stringify(ticket, null, 2) + '\n', { mode: 0o600 });
  log.ok(`auditor ${values.name} registered at ${ca.caName} (${org.mspId}, role=auditor, enrols once)`);
  log.info(`enrolment ticket: ${values.ticket} (mode 600; it holds a one-time secret: hand it over like a password)`);
  log.info(`the auditor runs: mvsec enroll --ticket ${values.ticket} --out <folder>`);
});
