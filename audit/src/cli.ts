/**
 * mvsec verify <bundle.json> --ca MSP=ca.pem ... [--policy EXPR] [--orderer-msp MSP] [--json] [--trust-bundle-cas]
 * mvsec export --subject-type TYPE --subject-id ID [--from ISO] [--to ISO] --out bundle.json <connection>
 *   connection: --identity <folder written by mvsec enroll>
 *           or: --peer host:port --tls-ca file --msp-id MSP --cert file --key file [--server-name name]
 *           or: --org <key> --user <enrolled name>   (an identity of this project's local network)
 * mvsec enroll --ticket <file> --out <folder>   (an auditor identity, key made here; see docs/auditor.md §0)
 * mvsec activity (--subject-type TYPE --subject-id ID [--from ISO] [--to ISO] | --period YYYY-MM-DD[THH]) [--format csv|json]
 * mvsec history --record-type TYPE --id ID [--format csv|json]
 *   both read the gateway's /audit API: --gateway URL (or MVSEC_GATEWAY_URL), --token JWT (or MVSEC_TOKEN)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseBundle } from './bundle.js';
import { DEFAULT_POLICY, exportBundle, type ProofInput } from './export.js';
import { anchorsFrom, describe, splitPem, verifyBundle, type Report } from './verify.js';

const USAGE = `usage:
  mvsec verify <bundle.json> --ca <MSP>=<ca.pem> [--ca ...] [--policy EXPR] [--orderer-msp MSP] [--json]
  mvsec verify <bundle.json> --trust-bundle-cas [--json]      (consistency only: trusts the bundle's CA copies)
  mvsec export --subject-type TYPE --subject-id ID [--from ISO] [--to ISO] [--proofs proofs.json] [--full-blocks] --out bundle.json
               (--identity DIR | --gateway URL --token JWT | --peer HOST:PORT --tls-ca FILE --msp-id MSP --cert FILE --key FILE [--server-name NAME] | --org KEY --user NAME)
               [--channel mvsec] [--chaincode mvsec] [--policy EXPR]
  mvsec enroll --ticket FILE --out DIR
               enrol the identity an organisation registered for you (npm run auditor:register): the key is made
               here and written to DIR/key.pem (mode 600) with DIR/cert.pem and DIR/connection.json
  mvsec activity (--subject-type TYPE --subject-id ID [--from ISO] [--to ISO] | --period YYYY-MM-DD[THH]) [--format csv|json]
  mvsec history --record-type TYPE --id ID [--format csv|json]
               read the gateway's /audit API as an auditor: [--gateway URL] (default $MVSEC_GATEWAY_URL or http://127.0.0.1:8080)
               [--token JWT] (default $MVSEC_TOKEN); every page, as CSV (default) or a JSON array
exit codes: 0 verified / read, 1 verification failures or a refused read, 2 usage or input error`;

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  write: (chunk: string) => void = (c) => process.stdout.write(c),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'verify') return runVerify(rest, out);
    if (command === 'export') return await runExport(rest, out);
    if (command === 'enroll') return await runEnroll(rest, out);
    if (command === 'activity' || command === 'history') return await runRead(command, rest, write);
    out(USAGE);
    return command === 'help' || command === '--help' ? 0 : 2;
  } catch (e) {
    process.stderr.write(`mvsec ${command}: ${(e as Error).message}\n`);
    return 2;
  }
}

function runVerify(argv: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ca: { type: 'string', multiple: true },
      policy: { type: 'string' },
      'orderer-msp': { type: 'string' },
      json: { type: 'boolean' },
      'trust-bundle-cas': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new Error(`one bundle file expected\n${USAGE}`);
  const bundle = parseBundle(readFileSync(positionals[0], 'utf8'));
  const entries = (values.ca ?? []).flatMap((arg) => caEntries(arg, bundle.cas));
  const report = verifyBundle(bundle, {
    anchors: entries.length ? anchorsFrom(entries) : undefined,
    trustBundleCas: values['trust-bundle-cas'],
    policy: values.policy,
    ordererMspId: values['orderer-msp'],
  });
  out(values.json ? JSON.stringify(report, null, 2) : human(report, positionals[0]));
  return report.ok ? 0 : 1;
}

/**
 * `MSP=file` names the MSP the auditor trusts the file for. A bare `file` takes the MSP from the
 * bundle's own list, matching by certificate fingerprint (the certificate is still the auditor's).
 */
function caEntries(arg: string, bundleCas: { mspId: string; pem: string[] }[]): { mspId: string; pem: string }[] {
  const eq = arg.indexOf('=');
  if (eq > 0 && !arg.slice(0, eq).includes('/')) return [{ mspId: arg.slice(0, eq), pem: readFileSync(arg.slice(eq + 1), 'utf8') }];
  return splitPem(readFileSync(arg, 'utf8')).map((pem) => {
    const norm = (p: string) => p.replace(/\s+/g, '');
    const owner = bundleCas.find((c) => c.pem.some((p) => norm(p) === norm(pem)));
    if (!owner) throw new Error(`${arg}: certificate not named in the bundle; give it as <MSP>=${arg}`);
    return { mspId: owner.mspId, pem };
  });
}

function human(r: Report, file: string): string {
  const c = r.counts;
  const lines = [
    `${file}: ${r.ok ? 'VERIFIED' : `FAILED (${r.failures.length} problem${r.failures.length === 1 ? '' : 's'})`}`,
    `  ${c.blocks} blocks (${c.fullBlocks} in full), ${c.links} hash links, ${c.ordererSignatures} orderer signatures, ` +
      `${c.transactions} transactions, ${c.endorsements} endorsements, ${c.proofs} proofs`,
    `  ${r.complete ? 'complete: every block of the range is in full and no transaction of the subject is missing' : 'completeness not checked: blocks between the subject’s are headers only (export with --full-blocks)'}`,
    `  trust anchors: ${r.trustAnchors === 'auditor' ? "the auditor's CA certificates" : "the bundle's own CA copies (not independent)"}; policy ${r.policy}`,
    ...r.warnings.map((w) => `  warning: ${w}`),
    ...r.failures.map((f) => `  ✗ ${describe(f)}`),
  ];
  return lines.join('\n');
}

async function runExport(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'subject-type': { type: 'string' },
      'subject-id': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      proofs: { type: 'string' },
      'full-blocks': { type: 'boolean' },
      channel: { type: 'string', default: 'mvsec' },
      chaincode: { type: 'string', default: 'mvsec' },
      policy: { type: 'string', default: DEFAULT_POLICY },
      'orderer-msp': { type: 'string', default: 'OrdererMSP' },
      peer: { type: 'string' },
      'tls-ca': { type: 'string' },
      'msp-id': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'server-name': { type: 'string' },
      org: { type: 'string' },
      user: { type: 'string' },
      identity: { type: 'string' },
      gateway: { type: 'string' },
      token: { type: 'string', default: process.env.MVSEC_TOKEN },
    },
  });
  for (const k of ['subject-type', 'subject-id', 'out'] as const) if (!values[k]) throw new Error(`--${k} is required\n${USAGE}`);
  if (values.gateway) return exportThroughGateway(values, out);
  const conn = await connection(values);
  try {
    const bundle = await exportBundle({
      gateway: conn.gateway,
      channel: values.channel!,
      chaincode: values.chaincode!,
      subject: { type: values['subject-type']!, id: values['subject-id']! },
      from: values.from,
      to: values.to,
      endorsementPolicy: values.policy,
      ordererMspId: values['orderer-msp'],
      fullBlocks: values['full-blocks'],
      proofs: values.proofs ? (JSON.parse(readFileSync(values.proofs, 'utf8')) as ProofInput[]) : [],
    });
    writeFileSync(values.out!, JSON.stringify(bundle, null, 1));
    out(
      `${values.out}: ${bundle.transactions.length} transactions in blocks ${bundle.blocks[0].number}..${bundle.blocks.at(-1)!.number}, ${bundle.proofs.length} proofs`,
    );
    return 0;
  } finally {
    conn.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

/**
 * `mvsec export --gateway URL --token JWT`: a gateway account's bundle, exported by the gateway as
 * the account's own Fabric identity (GET /audit/bundles/…). Verify it like any other: the gateway
 * is not trusted, the CA certificates you give `mvsec verify` are.
 */
async function exportThroughGateway(v: Values, out: (s: string) => void): Promise<number> {
  if (!v.token) throw new Error(`--token (or MVSEC_TOKEN) is required with --gateway\n${USAGE}`);
  const query = new URLSearchParams();
  if (v.from) query.set('from', String(v.from));
  if (v.to) query.set('to', String(v.to));
  if (v['full-blocks']) query.set('fullBlocks', 'true');
  const seg = encodeURIComponent;
  const url = `${String(v.gateway).replace(/\/$/, '')}/audit/bundles/${seg(String(v['subject-type']))}/${seg(String(v['subject-id']))}?${query}`;
  const r = await fetch(url, { headers: { authorization: `Bearer ${v.token}`, accept: 'application/json' } });
  if (r.status !== 200) return refusedRead(r);
  const bundle = parseBundle(await r.text());
  writeFileSync(String(v.out), JSON.stringify(bundle, null, 1));
  out(
    `${v.out}: ${bundle.transactions.length} transactions in blocks ${bundle.blocks[0].number}..${bundle.blocks.at(-1)!.number} (exported by the gateway)`,
  );
  return 0;
}

async function runEnroll(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ticket: { type: 'string' }, out: { type: 'string' } } });
  if (!values.ticket || !values.out) throw new Error(`--ticket and --out are required\n${USAGE}`);
  const { enrollFromTicket } = await import('./enroll.js');
  const e = await enrollFromTicket(values.ticket, values.out);
  out(`enrolled ${e.subject}`);
  out(
    `  attributes: ${Object.entries(e.attrs)
      .filter(([k]) => !k.startsWith('hf.'))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  out(`  certificate SHA-256: ${e.certSha256}`);
  out(`  key: ${values.out}/key.pem (mode 600; made here, never sent); export with: mvsec export --identity ${values.out} ...`);
  return 0;
}

async function connection(v: Values): Promise<{ gateway: import('@hyperledger/fabric-gateway').Gateway; close(): void }> {
  if (v.identity) {
    const { IDENTITY_FILES } = await import('./ticket.js');
    const dir = String(v.identity);
    const c = JSON.parse(readFileSync(`${dir}/${IDENTITY_FILES.connection}`, 'utf8')) as import('./ticket.js').IdentityConnection;
    v = {
      ...v,
      peer: c.peer.endpoint,
      'tls-ca': `${dir}/${IDENTITY_FILES.peerTlsCa}`,
      'msp-id': c.mspId,
      cert: `${dir}/${IDENTITY_FILES.cert}`,
      key: `${dir}/${IDENTITY_FILES.key}`,
      ...(c.peer.serverName ? { 'server-name': c.peer.serverName } : {}),
    };
  }
  if (v.org) {
    if (!v.user) throw new Error('--org needs --user');
    const { loadTopology } = await import('../../network/topology.js');
    const { connectAs } = await import('../../scripts/network/client.js');
    const org = loadTopology().orgs.find((o) => o.key === v.org || o.mspId === v.org);
    if (!org) throw new Error(`no org ${v.org} in the topology`);
    return connectAs(org, String(v.user));
  }
  for (const k of ['peer', 'tls-ca', 'msp-id', 'cert', 'key']) if (!v[k]) throw new Error(`--${k} is required (or --org/--user)`);
  const grpc = await import('@grpc/grpc-js');
  const { connect, hash, signers } = await import('@hyperledger/fabric-gateway');
  const { createPrivateKey } = await import('node:crypto');
  const client = new grpc.Client(
    String(v.peer),
    grpc.credentials.createSsl(readFileSync(String(v['tls-ca']))),
    v['server-name'] ? { 'grpc.ssl_target_name_override': String(v['server-name']) } : {},
  );
  const gateway = connect({
    client,
    identity: { mspId: String(v['msp-id']), credentials: readFileSync(String(v.cert)) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(String(v.key)))),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 30_000 }),
  });
  return {
    gateway,
    close() {
      gateway.close();
      client.close();
    },
  };
}

/** `mvsec activity|history`: every page of an /audit read, streamed to stdout as CSV or gathered into a JSON array. */
async function runRead(command: 'activity' | 'history', argv: string[], write: (chunk: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string', default: process.env.MVSEC_GATEWAY_URL ?? 'http://127.0.0.1:8080' },
      token: { type: 'string', default: process.env.MVSEC_TOKEN },
      format: { type: 'string', default: 'csv' },
      'subject-type': { type: 'string' },
      'subject-id': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      period: { type: 'string' },
      'record-type': { type: 'string' },
      id: { type: 'string' },
    },
  });
  if (!values.token) throw new Error(`--token (or MVSEC_TOKEN) is required\n${USAGE}`);
  if (values.format !== 'csv' && values.format !== 'json') throw new Error('--format is csv or json');
  const seg = encodeURIComponent;
  let path: string;
  const query = new URLSearchParams();
  let paged = true;
  if (command === 'history') {
    if (!values['record-type'] || !values.id) throw new Error(`--record-type and --id are required\n${USAGE}`);
    path = `/audit/history/${seg(values['record-type'])}/${seg(values.id)}`;
    paged = false;
  } else if (values.period) {
    path = `/audit/periods/${seg(values.period)}/activity`;
  } else {
    if (!values['subject-type'] || !values['subject-id'])
      throw new Error(`--subject-type and --subject-id (or --period) are required\n${USAGE}`);
    path = `/audit/activity/${seg(values['subject-type'])}/${seg(values['subject-id'])}`;
    if (values.from) query.set('from', values.from);
    if (values.to) query.set('to', values.to);
  }
  const base = values.gateway!.replace(/\/$/, '');
  const headers = { authorization: `Bearer ${values.token}` };
  if (paged) query.set('pageSize', '200');
  if (values.format === 'csv') {
    if (paged) query.set('all', 'true');
    const r = await fetch(`${base}${path}?${query}`, { headers: { ...headers, accept: 'text/csv' } });
    if (r.status !== 200) return refusedRead(r);
    const decoder = new TextDecoder();
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) write(decoder.decode(chunk, { stream: true }));
    write(decoder.decode());
    return 0;
  }
  const items: unknown[] = [];
  for (let bookmark = ''; ;) {
    if (bookmark) query.set('bookmark', bookmark);
    const r = await fetch(`${base}${path}?${query}`, { headers: { ...headers, accept: 'application/json' } });
    if (r.status !== 200) return refusedRead(r);
    const body = (await r.json()) as { items: unknown[]; bookmark?: string };
    items.push(...body.items);
    if (!paged || !body.bookmark) break;
    bookmark = body.bookmark;
  }
  write(`${JSON.stringify(items, null, 1)}\n`);
  return 0;
}

async function refusedRead(r: Response): Promise<number> {
  const text = await r.text();
  let detail = text;
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
  } catch {
    /* not a problem document */
  }
  process.stderr.write(`mvsec: the gateway answered ${r.status}: ${detail}\n`);
  return r.status === 400 ? 2 : 1;
}
