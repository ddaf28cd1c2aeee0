/**
 * `npm run fuzz`: property-based API fuzzing of the running gateway with Schemathesis (pinned in
 * test/fuzz/requirements.txt, installed into the git-ignored .venv-fuzz/), with real credentials
 * and real ids, then a check on the ledger that no refused request wrote anything.
 *
 * 1. A system of its own (test/fuzz/env.ts: .data-fuzz, ports + 20000; a running one is reused).
 * 2. Accounts created through the API by the bootstrap administrators; seed data (platforms,
 *    federation, thing, avatar, stored object, grant, transfer, a signed reading) so paths have
 *    real ids — Schemathesis draws ids from a dictionary of them half of the time.
 * 3. Schemathesis as each role (IoT creator, metaverse A admin and creator, metaverse B user,
 *    auditor, anonymous) over every operation of /openapi.json: examples, coverage and fuzzing
 *    phases, checks not_a_server_error, status_code_conformance, content_type_conformance,
 *    response_schema_conformance, positive_data_acceptance, negative_data_rejection. The
 *    WebSocket and SSE endpoints (streams, /events) are left out. HAR of every exchange in
 *    <data>/fuzz/<run>/.
 * 4. Ledger reconciliation: every valid transaction committed during the fuzzing is a txId that
 *    some 2xx response returned (or the anchoring of readings accepted with 202); a 4xx never
 *    wrote. The gateway log must hold no "unexpected error".
 *
 * Usage: npm run fuzz [-- --examples N] [-- --seed S]     (exit 1 on any finding)
 */
import './env.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readingBytes } from 'mvsec-protocol';
import { signBytes } from '../../gateway/src/r1-things/telemetry/signature.js';
import { stopGateway } from '../../scripts/gateway.js';
import { log, main } from '../../scripts/lib/log.js';
import { DATA, paths, ROOT } from '../../scripts/lib/paths.js';
import { bootstrapAdmins, bringUp, createAccount, http, LedgerWindow, thingKey, type Account } from '../bench/support/system.js';

const { values: argv } = parseArgs({
  options: {
    examples: { type: 'string', default: '25' },
    seed: { type: 'string', default: '20261127' },
    roles: { type: 'string', default: 'iot-creator,mva-admin,mva-creator,mvb-user,auditor,anonymous' },
  },
});
const VENV = join(ROOT, '.venv-fuzz');
const ST = join(VENV, 'bin', 'schemathesis');
const VERSION = /schemathesis==([\d.]+)/.exec(readFileSync(join(ROOT, 'test', 'fuzz', 'requirements.txt'), 'utf8'))![1];
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'positive_data_acceptance',
  'negative_data_rejection',
].join(',');

function ensureSchemathesis(): void {
  const have = existsSync(ST) ? spawnSync(ST, ['--version'], { encoding: 'utf8' }).stdout : '';
  if (have.includes(VERSION)) return;
  log.step(`installing schemathesis ${VERSION} into ${VENV}`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', VENV]],
    [join(VENV, 'bin', 'pip'), ['install', '-q', '-r', join(ROOT, 'test', 'fuzz', 'requirements.txt')]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}); Python ≥ 3.10 with venv and pip is needed`);
  }
}

interface Seed {
  ids: Record<string, string>;
}

async function seed(url: string, run: string, a: Record<string, Account>): Promise<Seed> {
  const ids = {
    iot: `fz-iot-${run}`,
    mva: `fz-mva-${run}`,
    mvb: `fz-mvb-${run}`,
    thing: `fz-watch-${run}`,
    avatar: `fz-av-${run}`,
    data: `fz-d-${run}`,
    grant: `fz-g-${run}`,
    transfer: `fz-tr-${run}`,
  };
  const must = async (what: string, p: Promise<{ status: number; body: unknown }>, ok = [200, 201, 202]) => {
    const r = await p;
    if (!ok.includes(r.status)) throw new Error(`seed ${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  await must(
    'IoT platform',
    http(url, 'POST', '/r5/platforms', {
      token: a.iotAdmin.token,
      json: { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 },
    }),
  );
  await must(
    'metaverse A',
    http(url, 'POST', '/r5/platforms', {
      token: a.mvaAdmin.token,
      json: { platformId: ids.mva, type: 'METAVERSE', name: 'A', capabilityLevel: 3 },
    }),
  );
  await must(
    'metaverse B',
    http(url, 'POST', '/r5/platforms', {
      token: a.mvbAdmin.token,
      json: { platformId: ids.mvb, type: 'METAVERSE', name: 'B', capabilityLevel: 3 },
    }),
  );
  await must(
    'federation',
    http(url, 'POST', '/r5/federations', {
      token: a.mvaAdmin.token,
      json: { platformId: ids.mva, peerPlatformId: ids.mvb, terms: 'fuzz' },
    }),
  );
  await must('accept', http(url, 'POST', `/r5/federations/${ids.mvb}/${ids.mva}/accept`, { token: a.mvbAdmin.token }));
  const key = thingKey();
  await must(
    'thing',
    http(url, 'POST', '/r1/things', {
      token: a.alice.token,
      json: {
        thingId: ids.thing,
        platformId: ids.iot,
        kind: 'DEVICE',
        accessMode: 'AUTONOMOUS',
        publicKey: key.publicKey,
        classification: 'CONFIDENTIAL',
        policy: { storage: 'ANY', allowedMetaverses: [ids.mva, ids.mvb], purposes: ['gameplay'], encryptionRequired: true },
      },
    }),
  );
  await must(
    'avatar',
    http(url, 'POST', '/r1/avatars', {
      token: a.mvaAdmin.token,
      json: { avatarId: ids.avatar, thingId: ids.thing, metaverseId: ids.mva, mode: 'ACTIVE', capabilityLevel: 3 },
    }),
  );
  await must('approval', http(url, 'POST', `/r1/avatars/${ids.avatar}/approve`, { token: a.alice.token })); // trust rule 8
  const stored = await must(
    'object',
    http(url, 'PUT', `/r2/data/${ids.data}?thingId=${ids.thing}&category=telemetry&classification=CONFIDENTIAL`, {
      token: a.alice.token,
      raw: Buffer.from(`fuzz seed object ${run}`),
    }),
  );
  const sha = (stored.body as { sha256: string }).sha256;
  await must(
    'grant',
    http(url, 'POST', '/r4/grants', {
      token: a.alice.token,
      json: {
        grantId: ids.grant,
        resourceType: 'THING',
        resourceId: ids.thing,
        grantee: { type: 'PRINCIPAL', id: a.bob.principal, mspId: a.bob.mspId },
        actions: ['share', 'read'],
        purpose: 'gameplay',
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      },
    }),
  );
  await must(
    'transfer',
    http(url, 'POST', '/r3/transfers', {
      token: a.bob.token,
      json: {
        transferId: ids.transfer,
        kind: 'SHARE',
        sourceAvatarId: ids.avatar,
        targetMetaverseId: ids.mvb,
        dataId: ids.data,
        dataSha256: sha,
        purpose: 'gameplay',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    }),
  );
  const r = { seq: 1, time: new Date().toISOString(), sensor: 'wrist', value: 36.6 };
  const signature = signBytes(key.privateKey, readingBytes({ thingId: ids.thing, ...r }));
  await must(
    'reading',
    http(url, 'POST', `/r1/things/${ids.thing}/readings`, { token: a.alice.token, json: { readings: [{ ...r, signature }] } }),
  );
  return { ids: { ...ids, sha256: sha } };
}

/** schemathesis.toml: real ids drawn half of the time for every id-shaped path parameter and body field. */
function config(s: Seed): string {
  const values = Object.values(s.ids).filter((v) => !/^[0-9a-f]{64}$/.test(v));
  const pathIds = ['thingId', 'avatarId', 'platformId', 'peerPlatformId', 'transferId', 'grantId', 'dataId'];
  const bodyIds = [
    'thingId',
    'avatarId',
    'platformId',
    'peerPlatformId',
    'metaverseId',
    'sourceAvatarId',
    'targetMetaverseId',
    'dataId',
    'resourceId',
    'transferId',
    'grantId',
  ];
  const lines = [
    '# generated by test/fuzz/run.ts',
    'request-timeout = 60.0',
    '',
    '[dictionaries.ids]',
    `values = ${JSON.stringify(values)}`,
    '[dictionaries.sha]',
    `values = ${JSON.stringify([s.ids.sha256])}`,
    '',
    '[parameters]',
    ...pathIds.map((p) => `"path.${p}" = { dictionary = "ids", probability = 0.5 }`),
    ...['thingId', 'avatarId'].map((p) => `"query.${p}" = { dictionary = "ids", probability = 0.5 }`),
    ...bodyIds.map((p) => `"body.${p}" = { dictionary = "ids", probability = 0.5 }`),
    `"body.dataSha256" = { dictionary = "sha", probability = 0.5 }`,
    '',
    '# Schema-valid input may still be refused by the ledger (who may, what exists, which state) but never as malformed (400).',
    '[checks.positive_data_acceptance]',
    'expected-statuses = ["2XX", 401, 403, 404, 409, 410, 422, 423, 429]',
    '# Schema-invalid input must be refused, and never reach the ledger (2xx).',
    '[checks.negative_data_rejection]',
    'expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 423, 429]',
  ];
  return `${lines.join('\n')}\n`;
}

interface Exchange {
  role: string;
  method: string;
  path: string;
  status: number;
  txId?: string;
}

/**
 * The served document with the JSON representations only: every operation offers JSON and CBOR,
 * and Schemathesis validates a response only when one media type applies. CBOR is covered by
 * the unit tests (test/unit/gateway/representations.test.ts).
 */
async function jsonOnlySpec(url: string, file: string): Promise<void> {
  const doc = (await http(url, 'GET', '/openapi.json')).body as unknown;
  const strip = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(strip);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.content && typeof o.content === 'object') {
        const c = o.content as Record<string, unknown>;
        delete c['application/cbor'];
        delete c['application/problem+cbor'];
      }
      Object.values(o).forEach(strip);
    }
  };
  strip(doc);
  writeFileSync(file, JSON.stringify(doc, null, 1));
}

/** Every request/response of a HAR file. */
function readHar(file: string, role: string): Exchange[] {
  if (!existsSync(file)) return [];
  const har = JSON.parse(readFileSync(file, 'utf8')) as {
    log: {
      entries: {
        request: { method: string; url: string };
        response: { status: number; content?: { text?: string; encoding?: string; mimeType?: string } };
      }[];
    };
  };
  return har.log.entries.map((e) => {
    const c = e.response.content;
    let txId: string | undefined;
    // Only writes answer with their own transaction (reads may quote older ones): the top-level txId of a JSON body.
    if (e.request.method !== 'GET' && c?.text && /json/.test(c.mimeType ?? '')) {
      try {
        const body = JSON.parse(c.encoding === 'base64' ? Buffer.from(c.text, 'base64').toString('utf8') : c.text) as { txId?: unknown };
        if (typeof body?.txId === 'string' && /^[0-9a-f]{64}$/.test(body.txId)) txId = body.txId;
      } catch {
        /* not JSON after all */
      }
    }
    return { role, method: e.request.method, path: new URL(e.request.url).pathname, status: e.response.status, ...(txId ? { txId } : {}) };
  });
}

/**
 * Schema-valid requests the gateway may still refuse as 400: rules across fields or parameters,
 * or relative to the transaction time, that a JSON schema cannot express. Anything else that
 * positive_data_acceptance reports is a finding.
 */
const ACCEPTED_400 = [
  /gatewayId is required for accessMode GATEWAY/,
  /gatewayId is only for accessMode GATEWAY/,
  /validUntil must be after validFrom/,
  /expiresAt must be after the transaction time/,
  /is more than \d+ days ahead/,
  /all=true streams a whole CSV report/,
  /the TOTP code does not match/,
  // content that must parse as what it claims to be (a schema can only say "a string")
  /is not a PEM X\.509 certificate/,
];

interface Failure {
  role: string;
  operation: string;
  check: string;
  detail: string;
  accepted: boolean;
}

/** Failures from Schemathesis's JUnit report, each judged against ACCEPTED_400. */
function readJunit(dir: string, role: string): Failure[] {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => /^junit.*\.xml$/.test(f)) : undefined;
  if (!file) return [];
  const xml = readFileSync(join(dir, file), 'utf8');
  const unescape = (t: string) =>
    t
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const out: Failure[] = [];
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*>\s*<failure[^>]*>([\s\S]*?)<\/failure>/g)) {
    const operation = unescape(m[1]);
    for (const one of unescape(m[2]).split(/\n(?=\d+\. Test Case ID)/)) {
      const check = /- (ST\d+ [^\n]*)/.exec(one)?.[1] ?? 'unknown check';
      const detail = /"detail":"((?:[^"\\]|\\.)*)"/.exec(one)?.[1] ?? one.trim().split('\n').slice(0, 6).join(' ');
      const accepted = check.startsWith('ST202') && /\[400\]/.test(one) && ACCEPTED_400.some((r) => r.test(detail));
      out.push({ role, operation, check, detail: detail.slice(0, 300), accepted });
    }
  }
  return out;
}

async function settledHeight(w: LedgerWindow): Promise<number> {
  // Readings accepted with 202 are anchored within a second or two: wait until no block is added for 5 s.
  let h = await w.height();
  for (let quiet = 0; quiet < 5;) {
    await new Promise((r) => setTimeout(r, 1000));
    const n = await w.height();
    quiet = n === h ? quiet + 1 : 0;
    h = n;
  }
  return h;
}

main(async () => {
  const started = Date.now();
  ensureSchemathesis();
  log.step(`system in ${DATA} (port offset ${process.env.MVSEC_PORT_OFFSET})`);
  await stopGateway(); // the code under test is this tree's: restart a gateway left running
  const url = await bringUp();
  const run = Date.now().toString(36);
  const out = join(DATA, 'fuzz', run);
  mkdirSync(out, { recursive: true });

  log.step('accounts and seed data');
  const admins = await bootstrapAdmins(url);
  const adminOf = (msp: string) => admins.get(msp)!;
  const a: Record<string, Account> = {
    iotAdmin: adminOf('IoTPlatformMSP'),
    mvaAdmin: adminOf('MetaverseAMSP'),
    mvbAdmin: adminOf('MetaverseBMSP'),
    alice: await createAccount(url, adminOf('IoTPlatformMSP'), 'creator', `fz-alice-${run}`),
    bob: await createAccount(url, adminOf('MetaverseAMSP'), 'creator', `fz-bob-${run}`),
    carol: await createAccount(url, adminOf('MetaverseBMSP'), 'user', `fz-carol-${run}`),
    auditor: await createAccount(url, adminOf('IoTPlatformMSP'), 'auditor', `fz-audit-${run}`),
  };
  const s = await seed(url, run, a);
  writeFileSync(join(out, 'schemathesis.toml'), config(s));
  const spec = join(out, 'openapi.json');
  await jsonOnlySpec(url, spec);

  const window = new LedgerWindow();
  const gatewayLog = join(paths.logs, 'gateway.log');
  const logStart = existsSync(gatewayLog) ? statSync(gatewayLog).size : 0;
  const h0 = await settledHeight(window);
  log.ok(`seeded (${Object.values(s.ids).length} ids); ledger height ${h0}`);

  const roles: [string, Account | undefined, number][] = [
    ['iot-creator', a.alice, 1],
    ['mva-admin', a.mvaAdmin, 1],
    ['mva-creator', a.bob, 1],
    ['mvb-user', a.carol, 1],
    ['auditor', a.auditor, 1],
    ['anonymous', undefined, 0.25],
  ];
  const exchanges: Exchange[] = [];
  const failures: string[] = [];
  const checkFailures: Failure[] = [];
  const wanted = new Set(argv.roles!.split(','));
  for (const [role, account, share] of roles.filter(([r]) => wanted.has(r))) {
    const dir = join(out, role);
    const examples = Math.max(5, Math.round(Number(argv.examples) * share));
    log.step(`schemathesis as ${role}: up to ${examples} cases per operation`);
    const args = [
      '--config-file',
      join(out, 'schemathesis.toml'),
      'run',
      spec,
      '--url',
      url,
      '--checks',
      CHECKS,
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      String(examples),
      '--seed',
      argv.seed!,
      '--workers',
      '2',
      '--suppress-health-check',
      'all',
      '--continue-on-failure',
      '--report',
      'har,junit',
      '--report-har-path',
      join(dir, 'report.har'),
      '--report-dir',
      dir,
      '--exclude-path',
      '/r1/avatars/{avatarId}/stream',
      '--exclude-path',
      '/monitor/alerts/stream',
      '--exclude-path',
      '/events',
      ...(account ? ['--header', `Authorization: Bearer ${account.token}`] : []),
    ];
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(ST, args, { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    writeFileSync(join(dir, 'output.txt'), `${r.stdout}\n${r.stderr}`);
    const ex = readHar(join(dir, 'report.har'), role);
    exchanges.push(...ex);
    const tail = r.stdout.trim().split('\n').slice(-3).join(' | ');
    log.info(`${role}: ${ex.length} requests, exit ${r.status}: ${tail}`);
    const judged = readJunit(dir, role);
    checkFailures.push(...judged);
    if (r.status !== 0 && judged.length === 0) failures.push(`${role}: schemathesis exited ${r.status} (see ${join(dir, 'output.txt')})`);
  }

  for (const f of checkFailures.filter((x) => !x.accepted)) failures.push(`${f.role}: ${f.operation}: ${f.check}: ${f.detail}`);

  const h1 = await settledHeight(window);
  const txs = await window.transactions(h0, h1);
  window.close();
  const valid = txs.filter((t) => t.valid);
  const okTx = new Set(exchanges.filter((e) => e.status >= 200 && e.status < 300 && e.txId).map((e) => e.txId!));
  const refusedTx = new Set(exchanges.filter((e) => e.status >= 400 && e.txId).map((e) => e.txId!));
  const accepted202 = exchanges.filter((e) => e.status === 202).length;
  const unexplained = valid.filter((t) => !okTx.has(t.txId));
  const missing = [...okTx].filter((id) => !valid.some((t) => t.txId === id) && !txs.some((t) => t.txId === id));
  // Anchoring of readings accepted with 202 has no txId in the response: allowed only when some reading was accepted.
  const anchorsAllowed = accepted202 > 0 ? unexplained.length : 0;
  if (unexplained.length > anchorsAllowed)
    failures.push(
      `ledger: ${unexplained.length} valid transactions that no 2xx response returned: ${unexplained.map((t) => t.txId).join(', ')}`,
    );
  if (refusedTx.size) failures.push(`ledger: ${refusedTx.size} refused responses carried a txId`);
  if (missing.length)
    failures.push(`ledger: ${missing.length} txIds returned with 2xx are not in blocks ${h0}..${h1 - 1}: ${missing.join(', ')}`);

  const gwLog = existsSync(gatewayLog) ? readFileSync(gatewayLog, 'utf8').slice(logStart) : '';
  const unexpected = gwLog.split('\n').filter((l) => l.includes('unexpected error'));
  if (unexpected.length) failures.push(`gateway log: ${unexpected.length} unexpected errors, first: ${unexpected[0].slice(0, 300)}`);

  const byStatus = new Map<number, number>();
  for (const e of exchanges) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  const summary = {
    run,
    minutes: +((Date.now() - started) / 60_000).toFixed(1),
    schemathesis: VERSION,
    requests: exchanges.length,
    byStatus: Object.fromEntries([...byStatus].sort((x, y) => x[0] - y[0])),
    ledger: {
      heightBefore: h0,
      heightAfter: h1,
      transactions: txs.length,
      valid: valid.length,
      okResponsesWithTxId: okTx.size,
      accepted202,
    },
    acceptedRefusals: [...new Set(checkFailures.filter((x) => x.accepted).map((x) => `${x.operation}: ${x.detail}`))],
    findings: failures,
  };
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary, null, 2));
  if (failures.length) {
    log.error(`${failures.length} finding(s); reports in ${out}`);
    process.exit(1);
  }
  log.ok(`no findings: ${exchanges.length} requests, ${valid.length} valid transactions all returned by 2xx responses (${out})`);
});
