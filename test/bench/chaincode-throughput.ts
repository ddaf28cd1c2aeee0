/**
 * Benchmark (not a test): committed transactions per second of a typical domain write
 * (`data:AnchorData` by the thing's owner) against the trivial baseline (`bench:PutTrivial`, one
 * authorization check and one putState) in the same chaincode, on the same running network, in one
 * run, with the same concurrency and count. Rounds alternate ABBA (trivial, domain, domain,
 * trivial) so drift of the machine or the ledger affects both sides alike. It also decodes one
 * committed transaction of each kind and prints the keys it read and wrote (from the peer's own
 * read-write set, not from the chaincode's claims).
 *
 * Run against a running network (it starts nothing):
 *   MVSEC_DATA_DIR=/work/main/.data-h1 MVSEC_PORT_OFFSET=20000 npx tsx scripts/network.ts up
 *   MVSEC_DATA_DIR=/work/main/.data-h1 MVSEC_PORT_OFFSET=20000 npx tsx test/bench/chaincode-throughput.ts
 * Knobs: BENCH_COUNT (default 400 per round), BENCH_CONCURRENCY (default 32), BENCH_ROUNDS (ABBA
 * pairs, default 1).
 */
import '../integration/support/network.js';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { topology } from '../integration/support/network.js';
import { anchorInput, buildWorld, statusName, type Actor, type Contract, type World } from '../integration/support/domain.js';

const COUNT = Number(process.env.BENCH_COUNT ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const WARMUP = 32;

interface RoundResult {
  kind: 'domain' | 'trivial';
  committed: number;
  invalid: Record<string, number>;
  failed: number;
  seconds: number;
  tps: number;
  sampleTxId?: string;
}

type Call = (i: number) => { contract: Contract; fn: string; args: string[] };

/** `count` transactions, at most `concurrency` in flight, each endorsed, submitted and awaited to commit. */
async function drive(kind: RoundResult['kind'], count: number, concurrency: number, call: Call): Promise<RoundResult> {
  let next = 0;
  let committed = 0;
  let failed = 0;
  const invalid: Record<string, number> = {};
  let sampleTxId: string | undefined;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const { contract, fn, args } = call(i);
      try {
        const tx = await contract.newProposal(fn, { arguments: args }).endorse();
        const status = await (await tx.submit()).getStatus();
        if (status.successful) {
          committed++;
          sampleTxId ??= tx.getTransactionId();
        } else invalid[statusName(status.code)] = (invalid[statusName(status.code)] ?? 0) + 1;
      } catch (e) {
        failed++;
        if (failed <= 3) console.error(`${kind} #${i} failed: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { kind, committed, invalid, failed, seconds, tps: committed / seconds, sampleTxId };
}

/** Keys read / written / range-queried by a committed transaction in the chaincode's namespace, from its read-write set. */
async function keysOf(
  a: Actor,
  txId: string,
): Promise<{ reads: number; writes: number; rangeQueries: number; privateCollections: number }> {
  const qscc = a.conn.gateway.getNetwork(topology.channel).getContract('qscc');
  const processed = peer.ProcessedTransaction.deserializeBinary(
    await qscc.evaluateTransaction('GetTransactionByID', topology.channel, txId),
  );
  const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()!.getPayload_asU8());
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const out = { reads: 0, writes: 0, rangeQueries: 0, privateCollections: 0 };
  for (const action of transaction.getActionsList()) {
    const ccPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const prp = peer.ProposalResponsePayload.deserializeBinary(ccPayload.getAction()!.getProposalResponsePayload_asU8());
    const ccAction = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    const rwset = ledger.rwset.TxReadWriteSet.deserializeBinary(ccAction.getResults_asU8());
    for (const ns of rwset.getNsRwsetList()) {
      if (ns.getNamespace() !== topology.chaincode.name) continue;
      const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
      out.reads += kv.getReadsList().length;
      out.writes += kv.getWritesList().length;
      out.rangeQueries += kv.getRangeQueriesInfoList().length;
      out.privateCollections += ns.getCollectionHashedRwsetList().length;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const w: World = await buildWorld('bench');
  try {
    const owner = w.alice; // creator of IoTPlatformMSP, owner of the thing
    const admin = w.iotAdmin; // PutTrivial needs role admin; same org, same Gateway peer
    const anchor = owner.cc('data');
    const trivial = admin.cc('bench');
    let seq = 0;
    const domainCall: Call = () => {
      const dataId = `bd-${w.run}-${seq++}`;
      return { contract: anchor, fn: 'AnchorData', args: [JSON.stringify(anchorInput(w, dataId))] };
    };
    const trivialCall: Call = () => ({ contract: trivial, fn: 'PutTrivial', args: [`bt-${w.run}-${seq++}`, 'x'] });

    console.log(
      `chaincode throughput: ${COUNT} tx per round, ${CONCURRENCY} in flight, ${ROUNDS} ABBA pair(s); network ${process.env.MVSEC_DATA_DIR} offset ${process.env.MVSEC_PORT_OFFSET}`,
    );
    await drive('trivial', WARMUP, CONCURRENCY, trivialCall);
    await drive('domain', WARMUP, CONCURRENCY, domainCall);

    const results: RoundResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of ['trivial', 'domain', 'domain', 'trivial'] as const) {
        const res = await drive(kind, COUNT, CONCURRENCY, kind === 'domain' ? domainCall : trivialCall);
        results.push(res);
        console.log(
          `  ${kind.padEnd(8)} ${res.committed}/${COUNT} committed in ${res.seconds.toFixed(2)} s = ${res.tps.toFixed(1)} tx/s` +
            (res.failed || Object.keys(res.invalid).length ? ` (failed ${res.failed}, invalid ${JSON.stringify(res.invalid)})` : ''),
        );
      }
    }
    const total = (kind: RoundResult['kind']) => {
      const rs = results.filter((r) => r.kind === kind);
      const committed = rs.reduce((s, r) => s + r.committed, 0);
      const seconds = rs.reduce((s, r) => s + r.seconds, 0);
      return { committed, seconds, tps: committed / seconds, sample: rs.find((r) => r.sampleTxId)?.sampleTxId };
    };
    const d = total('domain');
    const t = total('trivial');
    const ratio = d.tps / t.tps;
    const dKeys = d.sample ? await keysOf(owner, d.sample) : undefined;
    const tKeys = t.sample ? await keysOf(admin, t.sample) : undefined;
    console.log(`domain  data:AnchorData   ${d.tps.toFixed(1)} tx/s; keys per tx: ${JSON.stringify(dKeys)}`);
    console.log(`trivial bench:PutTrivial  ${t.tps.toFixed(1)} tx/s; keys per tx: ${JSON.stringify(tKeys)}`);
    console.log(`ratio domain/trivial = ${ratio.toFixed(3)} (goal >= 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
    console.log(
      JSON.stringify({
        count: COUNT,
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        domainTps: +d.tps.toFixed(1),
        trivialTps: +t.tps.toFixed(1),
        ratio: +ratio.toFixed(3),
        domainKeys: dKeys,
        trivialKeys: tKeys,
      }),
    );
  } finally {
    w.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
