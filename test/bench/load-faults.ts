/**
 * `npm run bench:faults` (reported, not part of CI): a mixed workload over the gateway's HTTP API
 * at rising concurrency, then one fault per phase — a Raft orderer, the IoT org's peer (the only
 * peer IoT callers' requests go through), the gateway process itself, each SIGKILLed and restarted
 * mid-phase — and a reconciliation of the client's log with the ledger.
 *
 * Workload, per worker and iteration (each a request with its own Idempotency-Key):
 *   thing     POST /r1/things                  (IoT creator)        → thing:RegisterThing
 *   agents    PUT  /r1/things/{id}/agents       (IoT creator)        → thing:SetThingAgents (not unique: a duplicate would show)
 *   avatar    POST /r1/avatars                  (metaverse A admin)  → avatar:MapAvatar
 *   readings  POST /r1/things/{id}/readings     (IoT creator)        → 5 signed readings, anchored in batches (data:AnchorBatch)
 *   transfer  POST /r3/transfers                (metaverse A creator)→ transfer:RequestTransfer (after the share guard)
 * DPM jobs (/r6) are not part of the mix (see docs/reliability.md).
 *
 * The client retries a request on a connection error, a 5xx, a 429 or 409 idempotency-in-progress,
 * with the same key and body, until it gets a definite answer (deadline 3 min). Every attempt and
 * every final outcome is logged (JSON lines in <data>/bench/). Reconciliation: each subject's
 * activity records on the ledger (audit:QueryActivityBySubject) — every 2xx write is there with
 * the txId the client got, nothing is there twice; every 202 reading has an inclusion proof whose
 * anchoring transaction is valid on the ledger.
 *
 * Usage: npm run bench:faults [-- --seconds 30]    (own network: .data-faults, ports + 30000)
 */
import './support/faults-env.js';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readingBytes } from 'mvsec-protocol';
import { signBytes } from 'mvsec-client';
import { ordererOrg } from '../../network/topology.js';
import { startGateway } from '../../scripts/gateway.js';
import { log, main } from '../../scripts/lib/log.js';
import { DATA } from '../../scripts/lib/paths.js';
import { daemonPid, killDaemon } from '../../scripts/lib/proc.js';
import { register } from '../../scripts/network/ca.js';
import { ordererDaemon, peerDaemon, startOrderer, startPeer } from '../../scripts/network/nodes.js';
import {
  bootstrapAdmins,
  bringUp,
  createAccount,
  http,
  LedgerWindow,
  orgOf,
  pct,
  thingKey,
  topology,
  type Account,
} from './support/system.js';

const { values: argv } = parseArgs({ options: { seconds: { type: 'string', default: '30' } } });
const SECONDS = Number(argv.seconds);
const READINGS_PER_REQUEST = 5;
const GATEWAY = { name: 'gateway', marker: 'gateway/src/main.ts' };

type Op = 'thing' | 'agents' | 'avatar' | 'readings' | 'transfer' | 'dpm';
const WRITES: Op[] = ['thing', 'agents', 'avatar', 'transfer'];

interface Final {
  kind: 'final';
  phase: string;
  op: Op;
  key: string;
  subject: string;
  status: number;
  problem?: string;
  detail?: string;
  txId?: string;
  attempts: number;
  ms: number;
  lastSeq?: number;
}

interface Fault {
  what: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main(async () => {
  log.step(`system in ${DATA} (port offset ${process.env.MVSEC_PORT_OFFSET})`);
  const url = await bringUp();
  const run = Date.now().toString(36);
  mkdirSync(join(DATA, 'bench'), { recursive: true });
  const logFile = join(DATA, 'bench', `load-faults-${run}.jsonl`);
  const record = (x: object) => appendFileSync(logFile, `${JSON.stringify(x)}\n`);

  // ---------------------------------------------------------------- accounts and fixtures
  log.step('accounts and fixtures');
  const admins = await bootstrapAdmins(url);
  const iotAdmin = admins.get('IoTPlatformMSP')!;
  const mvaAdmin = admins.get('MetaverseAMSP')!;
  const mvbAdmin = admins.get('MetaverseBMSP')!;
  const alice = await createAccount(url, iotAdmin, 'creator', `lf-alice-${run}`);
  const bob = await createAccount(url, mvaAdmin, 'creator', `lf-bob-${run}`);
  const dpmAdmin = admins.get('DPMProviderMSP')!;
  const providerId = `lf-dpm-${run}`;
  const ids = {
    iot: `lf-iot-${run}`,
    mva: `lf-mva-${run}`,
    mvb: `lf-mvb-${run}`,
    base: `lf-base-${run}`,
    baseAvatar: `lf-bav-${run}`,
    data: `lf-d-${run}`,
  };
  const must = async (what: string, p: Promise<{ status: number; body: unknown }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`fixture ${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  const policy = {
    storage: 'ANY',
    allowedMetaverses: [ids.mva, ids.mvb],
    allowedDpmProviders: [providerId],
    purposes: ['gameplay'],
    encryptionRequired: true,
  };
  const key = thingKey();
  const thingBody = (thingId: string) => ({
    thingId,
    platformId: ids.iot,
    kind: 'DEVICE',
    accessMode: 'AUTONOMOUS',
    publicKey: key.publicKey,
    classification: 'CONFIDENTIAL',
    policy,
  });
  await Promise.all([
    must(
      'iot',
      http(url, 'POST', '/r5/platforms', {
        token: iotAdmin.token,
        json: { platformId: ids.iot, type: 'IOT', name: 'IoT', capabilityLevel: 3 },
      }),
    ),
    must(
      'mva',
      http(url, 'POST', '/r5/platforms', {
        token: mvaAdmin.token,
        json: { platformId: ids.mva, type: 'METAVERSE', name: 'A', capabilityLevel: 3 },
      }),
    ),
    must(
      'mvb',
      http(url, 'POST', '/r5/platforms', {
        token: mvbAdmin.token,
        json: { platformId: ids.mvb, type: 'METAVERSE', name: 'B', capabilityLevel: 3 },
      }),
    ),
  ]);
  await must(
    'federation',
    http(url, 'POST', '/r5/federations', { token: mvaAdmin.token, json: { platformId: ids.mva, peerPlatformId: ids.mvb, terms: 'load' } }),
  );
  await must('accept', http(url, 'POST', `/r5/federations/${ids.mvb}/${ids.mva}/accept`, { token: mvbAdmin.token }));
  await must('base thing', http(url, 'POST', '/r1/things', { token: alice.token, json: thingBody(ids.base) }));
  await must(
    'base avatar',
    http(url, 'POST', '/r1/avatars', {
      token: mvaAdmin.token,
      json: { avatarId: ids.baseAvatar, thingId: ids.base, metaverseId: ids.mva, mode: 'ACTIVE', capabilityLevel: 3 },
    }),
  );
  await must('base approval', http(url, 'POST', `/r1/avatars/${ids.baseAvatar}/approve`, { token: alice.token })); // trust rule 8
  const stored = await must(
    'object',
    http(url, 'PUT', `/r2/data/${ids.data}?thingId=${ids.base}&category=telemetry&classification=CONFIDENTIAL`, {
      token: alice.token,
      raw: Buffer.from(`load object ${run}`),
    }),
  );
  const dataSha = (stored.body as { sha256: string }).sha256;
  await must(
    'grant',
    http(url, 'POST', '/r4/grants', {
      token: alice.token,
      json: {
        grantId: `lf-g-${run}`,
        resourceType: 'THING',
        resourceId: ids.base,
        grantee: { type: 'PRINCIPAL', id: bob.principal, mspId: bob.mspId },
        actions: ['share', 'read'],
        purpose: 'gameplay',
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      },
    }),
  );
  // R6: an independent DPM provider with the reference worker as its own process (its own CA identity).
  await must(
    'dpm platform',
    http(url, 'POST', '/r5/platforms', {
      token: dpmAdmin.token,
      json: { platformId: providerId, type: 'DPM', name: 'DPM', capabilityLevel: 3 },
    }),
  );
  const provider = await createAccount(url, dpmAdmin, 'dpm', providerId);
  const workerName = `lf-worker-${run}`;
  const workerSecret = await register(orgOf('DPMProviderMSP'), {
    name: workerName,
    type: 'client',
    attrs: { role: 'dpm', principal: providerId },
  });
  const workerHome = mkdtempSync(join(tmpdir(), 'mvsec-lf-worker-'));
  const dpmWorker = spawn(process.execPath, ['--import', 'tsx', join('dpm-worker', 'src', 'main.ts')], {
    env: {
      ...process.env,
      MVSEC_DPM_GATEWAY_URL: url,
      MVSEC_DPM_PROVIDER_ID: providerId,
      MVSEC_DPM_TOKEN: provider.token,
      MVSEC_DPM_MSP_DIR: join(workerHome, 'msp'),
      MVSEC_DPM_ENROLL_ID: workerName,
      MVSEC_DPM_ENROLL_SECRET: workerSecret,
      MVSEC_DPM_POLL_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 120; i++) {
    if ((await http(url, 'GET', `/r6/providers/${providerId}/key`, { token: provider.token })).status === 200) break;
    if (dpmWorker.exitCode !== null) throw new Error('the DPM worker stopped during start-up');
    await sleep(500);
  }
  const MAX_WORKERS = 16;
  const readingThing = (w: number) => `lf-rt-${run}-${w}`;
  for (let w = 0; w < MAX_WORKERS; w += 4)
    await Promise.all(
      [0, 1, 2, 3].map((d) =>
        must(`reading thing ${w + d}`, http(url, 'POST', '/r1/things', { token: alice.token, json: thingBody(readingThing(w + d)) })),
      ),
    );
  const seqs = new Array<number>(MAX_WORKERS).fill(0);
  log.ok(`fixtures ready; client log ${logFile}`);

  // ---------------------------------------------------------------- the client
  let currentGatewayUrl = url;
  async function send(
    phase: string,
    op: Op,
    account: Account,
    method: string,
    path: string,
    json: unknown,
    subject: string,
    lastSeq?: number,
  ): Promise<Final> {
    const keyId = `${run}-${op}-${subject}`;
    const t0 = performance.now();
    const deadline = Date.now() + 180_000;
    let wait = 250;
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let body: { type?: string; detail?: string; txId?: string } | undefined;
      let error: string | undefined;
      try {
        const r = await http(currentGatewayUrl, method, path, {
          token: account.token,
          json,
          headers: { 'idempotency-key': keyId },
          signal: AbortSignal.timeout(90_000),
        });
        status = r.status;
        body = r.body as typeof body;
      } catch (e) {
        error =
          (e as Error).message +
          ((e as { cause?: { code?: string } }).cause?.code ? ` (${(e as { cause: { code: string } }).cause.code})` : '');
      }
      record({
        kind: 'attempt',
        phase,
        op,
        key: keyId,
        attempt,
        status,
        ...(error ? { error } : { problem: body?.type, detail: body?.detail?.slice(0, 200) }),
        at: Date.now(),
      });
      const transient =
        error !== undefined || status >= 500 || status === 429 || (status === 409 && body?.type?.endsWith('/idempotency-in-progress'));
      if (!transient || Date.now() > deadline) {
        const final: Final = {
          kind: 'final',
          phase,
          op,
          key: keyId,
          subject,
          status,
          attempts: attempt,
          ms: performance.now() - t0,
          ...(body?.type ? { problem: body.type } : {}),
          ...(body?.detail ? { detail: body.detail.slice(0, 300) } : {}),
          ...(typeof body?.txId === 'string' ? { txId: body.txId } : {}),
          ...(lastSeq !== undefined ? { lastSeq } : {}),
        };
        record(final);
        return final;
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 2000);
    }
  }

  const finals: Final[] = [];
  async function worker(phase: string, w: number, until: number): Promise<void> {
    for (let i = 0; Date.now() < until; i++) {
      const thingId = `lf-t-${run}-${phase}-${w}-${i}`;
      const t = await send(phase, 'thing', alice, 'POST', '/r1/things', thingBody(thingId), thingId);
      finals.push(t);
      const exists = t.status === 201 || (t.status === 409 && /already exists/.test(t.detail ?? ''));
      if (exists) {
        finals.push(await send(phase, 'agents', alice, 'PUT', `/r1/things/${thingId}/agents`, { agents: [`agent-${w}-${i}`] }, thingId));
        const avatarId = `lf-av-${run}-${phase}-${w}-${i}`;
        finals.push(
          await send(
            phase,
            'avatar',
            mvaAdmin,
            'POST',
            '/r1/avatars',
            { avatarId, thingId, metaverseId: ids.mva, mode: 'ACTIVE', capabilityLevel: 3 },
            avatarId,
          ),
        );
      }
      const rt = readingThing(w);
      const readings = Array.from({ length: READINGS_PER_REQUEST }, () => {
        const r = { seq: ++seqs[w], time: new Date().toISOString(), sensor: 'wrist', value: 36 + (seqs[w] % 10) / 10 };
        return { ...r, signature: signBytes(key.privateKey, readingBytes({ thingId: rt, ...r })) };
      });
      finals.push(
        await send(phase, 'readings', alice, 'POST', `/r1/things/${rt}/readings`, { readings }, `${rt}#${readings[0].seq}`, seqs[w]),
      );
      const jobId = `lf-job-${run}-${phase}-${w}-${i}`;
      finals.push(
        await send(
          phase,
          'dpm',
          mvaAdmin,
          'POST',
          '/r6/jobs',
          { jobId, metaverseId: ids.mva, providerId, purpose: 'gameplay', inputs: [ids.data] },
          jobId,
        ),
      );
      const transferId = `lf-tr-${run}-${phase}-${w}-${i}`;
      finals.push(
        await send(
          phase,
          'transfer',
          bob,
          'POST',
          '/r3/transfers',
          {
            transferId,
            kind: 'SHARE',
            sourceAvatarId: ids.baseAvatar,
            targetMetaverseId: ids.mvb,
            dataId: ids.data,
            dataSha256: dataSha,
            purpose: 'gameplay',
            expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          },
          transferId,
        ),
      );
    }
  }

  // ---------------------------------------------------------------- phases and faults
  const orderers = ordererOrg(topology);
  const victimOrderer = orderers.orderers[0];
  const iotOrg = orgOf('IoTPlatformMSP');
  const iotPeer = iotOrg.peers[0];
  const faults: Record<string, Fault> = {
    orderer: {
      what: `orderer ${victimOrderer.name} (SIGKILL)`,
      kill: async () => void killDaemon(ordererDaemon(orderers, victimOrderer), 'orderer'),
      restart: () => startOrderer(topology, victimOrderer),
    },
    peer: {
      what: `the IoT org's peer ${iotPeer.name} (SIGKILL; IoT callers have no other peer)`,
      kill: async () => void killDaemon(peerDaemon(iotOrg, iotPeer), 'peer'),
      restart: () => startPeer(iotOrg, iotPeer),
    },
    gateway: {
      what: 'the gateway process (SIGKILL)',
      kill: async () => void killDaemon(GATEWAY.name, GATEWAY.marker),
      restart: async () => {
        currentGatewayUrl = (await startGateway()).url;
      },
    },
  };
  const phases: { name: string; concurrency: number; seconds: number; fault?: keyof typeof faults }[] = [
    { name: 'c4', concurrency: 4, seconds: SECONDS },
    { name: 'c8', concurrency: 8, seconds: SECONDS },
    { name: 'c16', concurrency: 16, seconds: SECONDS },
    { name: 'orderer-kill', concurrency: 8, seconds: SECONDS + 10, fault: 'orderer' },
    { name: 'peer-kill', concurrency: 8, seconds: SECONDS + 10, fault: 'peer' },
    { name: 'gateway-kill', concurrency: 8, seconds: SECONDS + 10, fault: 'gateway' },
  ];
  const window = new LedgerWindow('MetaverseAMSP');
  const h0 = await window.height();
  const report: Record<string, unknown>[] = [];
  for (const p of phases) {
    log.step(`phase ${p.name}: ${p.concurrency} in flight for ${p.seconds} s${p.fault ? `, fault: ${faults[p.fault].what}` : ''}`);
    const started = performance.now();
    const until = Date.now() + p.seconds * 1000;
    const faultRun = p.fault
      ? (async () => {
          const f = faults[p.fault!];
          await sleep(6000);
          await f.kill();
          record({ kind: 'fault', phase: p.name, what: f.what, event: 'killed', at: Date.now() });
          log.info(`killed ${f.what}`);
          await sleep(p.fault === 'gateway' ? 2000 : 12_000);
          const t = performance.now();
          await f.restart();
          record({ kind: 'fault', phase: p.name, what: f.what, event: 'restarted', at: Date.now() });
          log.info(`restarted after ${((performance.now() - t) / 1000).toFixed(1)} s of start-up`);
        })()
      : Promise.resolve();
    await Promise.all([...Array.from({ length: p.concurrency }, (_, w) => worker(p.name, w, until)), faultRun]);
    const seconds = (performance.now() - started) / 1000;
    const mine = finals.filter((f) => f.phase === p.name);
    const writes = mine.filter((f) => WRITES.includes(f.op));
    const ok = writes.filter((f) => f.status >= 200 && f.status < 300);
    const readingsOk = mine.filter((f) => f.op === 'readings' && f.status === 202).length * READINGS_PER_REQUEST;
    const lat = mine.map((f) => f.ms).sort((a, b) => a - b);
    const row = {
      phase: p.name,
      concurrency: p.concurrency,
      seconds: +seconds.toFixed(1),
      requests: mine.length,
      committedWrites: ok.length,
      txPerSecond: +(ok.length / seconds).toFixed(1),
      readingsPerSecond: +(readingsOk / seconds).toFixed(1),
      p50ms: Math.round(pct(lat, 50)),
      p95ms: Math.round(pct(lat, 95)),
      retried: mine.filter((f) => f.attempts > 1).length,
      not2xx: mine.filter((f) => f.status < 200 || f.status >= 300).map((f) => `${f.op} ${f.status} ${f.detail?.slice(0, 80) ?? ''}`),
    };
    report.push(row);
    log.ok(`${p.name}: ${row.txPerSecond} committed tx/s, p95 ${row.p95ms} ms, ${row.retried} retried, ${row.not2xx.length} not 2xx`);
  }

  // ---------------------------------------------------------------- reconciliation
  log.step('reconciling the client log with the ledger');
  await sleep(4000); // the last readings' batches are cut after 1 s and anchored
  const h1 = await window.height();
  const txs = await window.transactions(h0, h1);
  const validTx = new Set(txs.filter((t) => t.valid).map((t) => t.txId));
  interface Activity {
    txId: string;
    action: string;
  }
  const activityCache = new Map<string, Promise<Activity[]>>();
  const activity = (type: string, id: string) => {
    const k = `${type}/${id}`;
    if (!activityCache.has(k))
      activityCache.set(
        k,
        (window.evaluate('audit', 'QueryActivityBySubject', [type, id, '200', '']) as Promise<{ items: Activity[] }>).then((p) => p.items),
      );
    return activityCache.get(k)!;
  };
  const expected: Record<Exclude<Op, 'readings'>, [string, string]> = {
    thing: ['thing', 'registered'],
    agents: ['thing', 'agents-set'],
    avatar: ['avatar', 'mapped'],
    transfer: ['transfer', 'requested'],
    dpm: ['job', 'submitted'],
  };
  const out = {
    ok2xx: 0,
    onLedger: 0,
    lost: [] as string[],
    duplicated: [] as string[],
    ambiguous: [] as string[],
    refused: 0,
    readingsAccepted: 0,
    readingsAnchored: 0,
    readingsLost: [] as string[],
  };
  const queue = [...finals];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const ok = f.status >= 200 && f.status < 300;
        if (f.op === 'readings') {
          const replayedAfterRetry = f.status === 409 && f.problem?.endsWith('/replay') && f.attempts > 1;
          if (!ok && !replayedAfterRetry) {
            out.refused++;
            continue;
          }
          out.readingsAccepted += READINGS_PER_REQUEST;
          const [rt] = f.subject.split('#');
          const proof = await http(currentGatewayUrl, 'GET', `/r1/things/${rt}/readings/${f.lastSeq}/proof`, { token: alice.token });
          if (proof.status === 200 && validTx.has(proof.body.txId as string)) out.readingsAnchored += READINGS_PER_REQUEST;
          else out.readingsLost.push(`${f.subject}..${f.lastSeq}: ${proof.status} ${JSON.stringify(proof.body).slice(0, 160)}`);
          continue;
        }
        const [type, action] = expected[f.op];
        const records = (await activity(type, f.subject)).filter((a) => a.action === action);
        if (records.length > 1)
          out.duplicated.push(`${f.op} ${f.subject}: ${records.length} '${action}' records (${records.map((r) => r.txId).join(', ')})`);
        if (ok) {
          out.ok2xx++;
          if (records.some((r) => r.txId === f.txId) && validTx.has(f.txId!)) out.onLedger++;
          else
            out.lost.push(
              `${f.op} ${f.subject}: 2xx with tx ${f.txId} but the ledger has ${records.map((r) => r.txId).join(', ') || 'nothing'}`,
            );
        } else {
          out.refused++;
          if (records.length)
            out.ambiguous.push(
              `${f.op} ${f.subject}: final ${f.status} (${f.detail?.slice(0, 80)}) but on the ledger once (tx ${records[0].txId})`,
            );
        }
      }
    }),
  );
  window.close();
  // R6: the jobs the gateway acknowledged are processed by the worker (receipts on the ledger).
  const jobs = finals.filter((f) => f.op === 'dpm' && f.status >= 200 && f.status < 300).map((f) => f.subject);
  const jobState = async () =>
    Promise.all(
      jobs.map(async (j) => (await http(currentGatewayUrl, 'GET', `/r6/jobs/${j}`, { token: mvaAdmin.token })).body as { status?: string }),
    );
  let states = await jobState();
  for (let i = 0; i < 60 && states.some((j) => j.status !== 'COMPLETED' && j.status !== 'FAILED'); i++) {
    await sleep(2000);
    states = await jobState();
  }
  dpmWorker.kill('SIGTERM');
  rmSync(workerHome, { recursive: true, force: true });
  const dpmJobs = {
    acknowledged: jobs.length,
    completed: states.filter((j) => j.status === 'COMPLETED').length,
    failed: states.filter((j) => j.status === 'FAILED').length,
  };
  const summary = {
    run,
    log: logFile,
    ledger: { heightBefore: h0, heightAfter: h1, transactions: txs.length, valid: validTx.size },
    phases: report,
    reconciliation: {
      writes2xx: out.ok2xx,
      writes2xxOnLedger: out.onLedger,
      lost: out.lost.length,
      duplicated: out.duplicated.length,
      ambiguous: out.ambiguous.length,
      refusedFinal: out.refused,
      readingsAccepted: out.readingsAccepted,
      readingsAnchored: out.readingsAnchored,
      readingsLost: out.readingsLost.length,
      dpmJobs,
      details: { lost: out.lost, duplicated: out.duplicated, ambiguous: out.ambiguous, readingsLost: out.readingsLost.slice(0, 20) },
    },
  };
  appendFileSync(logFile, `${JSON.stringify({ kind: 'summary', ...summary })}\n`);
  console.log(JSON.stringify(summary, null, 2));
  if (daemonPid(GATEWAY.name, GATEWAY.marker) === undefined) log.warn('the gateway is not running at the end of the run');
  if (out.lost.length || out.duplicated.length || out.readingsLost.length) {
    log.error(
      `reconciliation: ${out.lost.length} lost, ${out.duplicated.length} duplicated, ${out.readingsLost.length} reading requests not anchored`,
    );
    process.exit(1);
  }
  log.ok(
    `reconciliation: ${out.onLedger}/${out.ok2xx} 2xx writes on the ledger, 0 lost, 0 duplicated; ${out.readingsAnchored}/${out.readingsAccepted} readings anchored`,
  );
});
