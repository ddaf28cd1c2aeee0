/**
 * Benchmark (not a test): time to fetch one page of a subject's activity through the gateway's
 * /audit API for a subject with 100 records vs one with 10,000, on the same ledger, in one run.
 * The goal is that a page costs the same however long the subject's history is (≤ 1.5×).
 *
 * Population: two things of one owner; `data:AnchorBatch` writes one `batch-anchored` activity
 * record under the thing per transaction (the chaincode allows no duplicate subject in one
 * transaction), submitted in parallel (BENCH_CONCURRENCY in flight) straight through
 * fabric-gateway. Measurement: the real gateway in-process, an auditor over HTTP/JSON, pageSize 50:
 *   - small: the first page of the 100-record thing, repeated;
 *   - large: every page of the 10,000-record thing, walked by bookmark (first to last);
 *   - rounds interleave small and large so drift affects both alike; p50 of each;
 *   - also: the chaincode call alone (audit:QueryActivityBySubject, evaluate) for both, and a
 *     time-range page (from = the time of the record one page before the end) of the large thing,
 *     which audit:QueryActivityBySubjectBetween starts at `from` (ratio to a plain page).
 *
 * Run against a running network (it starts nothing):
 *   MVSEC_DATA_DIR=$PWD/.data-h2 MVSEC_PORT_OFFSET=30000 npx tsx test/bench/audit-paging.ts
 * Knobs: BENCH_LARGE (10000), BENCH_SMALL (100), BENCH_CONCURRENCY (48), BENCH_PAGE (50),
 * BENCH_SAMPLES (rounds, 200). The last line is JSON.
 */
import '../integration/support/network.js';
import { randomBytes } from 'node:crypto';
import { startLiveGateway } from '../integration/gateway-support.js';
import { actor, buildWorld, IOT, ok, statusName, type World } from '../integration/support/domain.js';

const LARGE = Number(process.env.BENCH_LARGE ?? 10_000);
const SMALL = Number(process.env.BENCH_SMALL ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 48);
const PAGE = Number(process.env.BENCH_PAGE ?? 50);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** `count` AnchorBatch transactions on `thingId`, `concurrency` in flight, each awaited to commit. */
async function populate(w: World, thingId: string, count: number, label: string): Promise<void> {
  const contract = w.alice.cc('data');
  let next = 0;
  let done = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const at = new Date().toISOString();
      const input = {
        batchId: `${thingId}-b${i}-${randomBytes(4).toString('hex')}`,
        thingId,
        merkleRoot: randomBytes(32).toString('hex'),
        leafCount: 1000,
        firstReadingAt: at,
        lastReadingAt: at,
      };
      for (let attempt = 0; ; attempt++) {
        try {
          const tx = await contract.newProposal('AnchorBatch', { arguments: [JSON.stringify(input)] }).endorse();
          const status = await (await tx.submit()).getStatus();
          if (!status.successful) throw new Error(`invalid: ${statusName(status.code)}`);
          done++;
          break;
        } catch (e) {
          if (attempt >= 4) {
            failed++;
            console.error(`${label} #${i}: ${(e as Error).message.split('\n')[0]}`);
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
      if (done % 1000 === 0 && done) console.error(`  ${label}: ${done}/${count} committed (${((done / ms(t0)) * 1000).toFixed(0)} tx/s)`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  if (failed) throw new Error(`${label}: ${failed} transactions failed`);
  console.error(`  ${label}: ${done} transactions in ${(ms(t0) / 1000).toFixed(1)} s (${((done / ms(t0)) * 1000).toFixed(1)} tx/s)`);
}

async function main(): Promise<void> {
  const w = await buildWorld('bench-audit');
  const gw = await startLiveGateway();
  const rawAuditor = await actor(IOT, 'auditor');
  try {
    const small = `${w.thingId}-small`;
    const large = `${w.thingId}-large`;
    for (const thingId of [small, large])
      await ok(w.alice.cc('thing'), 'RegisterThing', [
        JSON.stringify({
          thingId,
          platformId: w.iotId,
          kind: 'DEVICE',
          accessMode: 'AUTONOMOUS',
          publicKey: `pk-${thingId}`,
          classification: 'CONFIDENTIAL',
          policy: { storage: 'ANY', allowedMetaverses: [w.mvaId], purposes: ['analytics'], encryptionRequired: true },
        }),
      ]);
    console.error(`populating: ${SMALL - 1} + ${LARGE - 1} AnchorBatch transactions (plus each thing's registration)`);
    await populate(w, small, SMALL - 1, 'small');
    await populate(w, large, LARGE - 1, 'large');

    const auditor = await gw.as(IOT, 'auditor');
    const get = async (path: string) => {
      const t0 = process.hrtime.bigint();
      const r = await fetch(gw.url + path, { headers: { authorization: `Bearer ${auditor.token}`, accept: 'application/json' } });
      const body = (await r.json()) as { items: { time: string }[]; bookmark: string };
      const t = ms(t0);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(body)}`);
      return { t, body };
    };
    const raw = async (thingId: string, bookmark: string) => {
      const t0 = process.hrtime.bigint();
      const bytes = await rawAuditor.cc('audit').evaluateTransaction('QueryActivityBySubject', 'thing', thingId, String(PAGE), bookmark);
      const t = ms(t0);
      const page = JSON.parse(Buffer.from(bytes).toString('utf8')) as { items: unknown[]; bookmark: string };
      return { t, page };
    };
    // counts, and warm-up
    const times: string[] = [];
    for (let b = ''; ;) {
      const { body } = await get(`/audit/activity/thing/${large}?pageSize=200${b ? `&bookmark=${b}` : ''}`);
      times.push(...body.items.map((i) => i.time));
      if (!body.bookmark) break;
      b = body.bookmark;
    }
    const count = times.length;
    const smallCount = (await get(`/audit/activity/thing/${small}?pageSize=200`)).body.items.length;
    console.error(`records: small ${smallCount}, large ${count}`);

    const tSmall: number[] = [];
    const tLarge: number[] = [];
    const rawSmall: number[] = [];
    const rawLarge: number[] = [];
    let bookmark = '';
    let rawBookmark = '';
    for (let i = 0; i < SAMPLES; i++) {
      tSmall.push((await get(`/audit/activity/thing/${small}?pageSize=${PAGE}`)).t);
      const page = await get(`/audit/activity/thing/${large}?pageSize=${PAGE}${bookmark ? `&bookmark=${bookmark}` : ''}`);
      tLarge.push(page.t);
      bookmark = page.body.bookmark;
      rawSmall.push((await raw(small, '')).t);
      const r = await raw(large, rawBookmark);
      rawLarge.push(r.t);
      rawBookmark = r.page.bookmark;
    }
    // a time-range page near the end of the large subject: the chaincode starts the scan at `from`
    const fromTime = times[Math.max(0, count - PAGE)];
    const tRange: number[] = [];
    for (let i = 0; i < 5; i++)
      tRange.push((await get(`/audit/activity/thing/${large}?pageSize=${PAGE}&from=${encodeURIComponent(fromTime)}`)).t);

    const result = {
      pageSize: PAGE,
      smallRecords: smallCount,
      largeRecords: count,
      samples: SAMPLES,
      gatewayP50Small: +pct(tSmall, 50).toFixed(2),
      gatewayP50Large: +pct(tLarge, 50).toFixed(2),
      gatewayP95Small: +pct(tSmall, 95).toFixed(2),
      gatewayP95Large: +pct(tLarge, 95).toFixed(2),
      ratio: +(pct(tLarge, 50) / pct(tSmall, 50)).toFixed(3),
      chaincodeP50Small: +pct(rawSmall, 50).toFixed(2),
      chaincodeP50Large: +pct(rawLarge, 50).toFixed(2),
      chaincodeRatio: +(pct(rawLarge, 50) / pct(rawSmall, 50)).toFixed(3),
      timeRangeNearEndP50: +pct(tRange, 50).toFixed(2),
      timeRangeRatio: +(pct(tRange, 50) / pct(tLarge, 50)).toFixed(3),
    };
    console.log(
      [
        `activity page of ${PAGE} through GET /audit/activity (HTTP/JSON, auditor), ${SAMPLES} rounds interleaved:`,
        `  subject with ${smallCount} records:    p50 ${result.gatewayP50Small} ms, p95 ${result.gatewayP95Small} ms`,
        `  subject with ${count} records: p50 ${result.gatewayP50Large} ms, p95 ${result.gatewayP95Large} ms (pages walked by bookmark)`,
        `  ratio large/small (p50): ${result.ratio} (goal ≤ 1.5)`,
        `chaincode call alone (audit:QueryActivityBySubject, evaluate): p50 ${result.chaincodeP50Small} ms vs ${result.chaincodeP50Large} ms, ratio ${result.chaincodeRatio}`,
        `time-range page near the end of the large subject (from = record ${count - PAGE}): p50 ${result.timeRangeNearEndP50} ms, ${result.timeRangeRatio}× a plain page (the scan starts at from)`,
      ].join('\n'),
    );
    console.log(JSON.stringify(result));
  } finally {
    rawAuditor.conn.close();
    await gw.close();
    w.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
