/**
 * U1 — the smartwatch (MISSION.md U1), narrated step by step against the running system: a watch
 * with wrist, ankle and head sensors (autonomous: it signs its own readings) and a constrained
 * heart-rate sensor behind an IoT gateway are mapped into MetaverseA and MetaverseB; readings flow
 * to both avatars as the policy allows; MetaverseA sends a large job to one of two independent DPM
 * providers (the other is not allowed by the policy) and the receipt lands on the ledger; the
 * owner then revokes MetaverseB, which receives nothing more; an auditor summarises.
 *
 *   npm start            (once; the system keeps running)
 *   npm run demo:smartwatch
 */
import { createHash } from 'node:crypto';
import { runJobs } from './dpm-step.js';
import {
  expect,
  registerPlatform,
  IOT,
  MVA,
  MVB,
  SensingThing,
  sleep,
  subscribe,
  tx,
  until,
  type Actor,
  type Cast,
  type Narrator,
} from './lib.js';

export interface SmartwatchSummary {
  watchId: string;
  heartId: string;
  delivered: { metaverseA: number; metaverseB: number };
  afterRevocation: { metaverseA: number; metaverseB: number; closedB?: string };
  largeInput: { dataId: string; bytes: number; sha256: string };
  refusedProvider: string;
  dpmJobs: { jobId: string; requester: string; status: string; outputSha256: string }[];
  movements: number;
}

/** Motion samples as the watch records them: a few MiB of CSV, the "large job" input. */
function motionCsv(rows: number): Buffer {
  const lines = ['t,wrist.x,wrist.y,wrist.z,ankle.x,ankle.y,ankle.z,head.x,head.y,head.z'];
  const f = (v: number) => v.toFixed(4);
  for (let i = 0; i < rows; i++) {
    const a = i / 50;
    lines.push(
      [
        i * 10,
        Math.sin(a),
        Math.cos(a),
        9.8 + Math.sin(3 * a) / 10,
        Math.cos(a / 2),
        Math.sin(a / 2),
        9.7,
        Math.sin(a) / 20,
        0.01,
        Math.cos(a) / 20,
      ]
        .map((v, k) => (k === 0 ? String(v) : f(v)))
        .join(','),
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

export async function runSmartwatch(
  cast: Cast,
  say: Narrator,
  opts: { dpm?: boolean; largeRows?: number } = {},
): Promise<SmartwatchSummary> {
  const r = cast.run;
  const ids = {
    iot: `wear-iot-${r}`,
    mva: `mv-a-${r}`,
    mvb: `mv-b-${r}`,
    hub: `phone-hub-${r}`,
    watch: `watch-${r}`,
    heart: `heart-rate-${r}`,
    agent: `hub-agent-${r}`,
    motion: `motion-log-${r}`,
    grant: `mva-process-${r}`,
    providers: [`dpm-alpha-${r}`, `dpm-beta-${r}`],
  };
  const [iotOp, opA, opB, wearer, auditor] = await Promise.all([
    cast.actor(IOT, 'admin', 'IoT platform operator'),
    cast.actor(MVA, 'admin', 'MetaverseA operator'),
    cast.actor(MVB, 'admin', 'MetaverseB operator'),
    cast.actor(IOT, 'creator', 'Wearer'),
    cast.actor(MVA, 'auditor', 'Auditor'),
  ]);

  say.step('R5', 'the platforms', 'the IoT platform and both metaverses register, each under its own organisation');
  await registerPlatform(say, iotOp, { platformId: ids.iot, type: 'IOT', name: 'Wearables platform', capabilityLevel: 3 });
  await registerPlatform(say, opA, { platformId: ids.mva, type: 'METAVERSE', name: 'MetaverseA', capabilityLevel: 3 });
  await registerPlatform(say, opB, { platformId: ids.mvb, type: 'METAVERSE', name: 'MetaverseB', capabilityLevel: 2 });

  say.step('S1', wearer, 'binds her signing key on the ledger: no other certificate naming her acts as her (trust rule 8)');
  const bound = expect(await wearer.call('POST', '/auth/me/key-binding'), 201, 'binding the wearer’s key');
  say.ledger(`principal ${wearer.principal} bound to key sha256 ${String(bound.body.result.spkiSha256).slice(0, 16)}… (${tx(bound)})`);

  const policy = (metaverses: string[]) => ({
    storage: 'ANY',
    allowedMetaverses: metaverses,
    allowedDpmProviders: [ids.providers[0]],
    purposes: ['fitness'],
    retentionDays: 30,
    encryptionRequired: true,
  });
  const watch = new SensingThing(ids.watch);
  say.step('R1', wearer, `creates the thing agent ${ids.agent} of the phone hub: the IoT gateway of the heart-rate sensor`);
  const agent = expect(
    await wearer.call('POST', '/agents', { agentId: ids.agent, kind: 'thing', serves: [ids.heart], sensors: ['heart-rate'] }),
    201,
    'creating the thing agent',
  );
  say.note(
    `the agent has its own Fabric identity (${agent.body.identity.role} ${agent.body.identity.principal}) and holds the hub's signing key`,
  );
  const hub = { thingId: ids.hub, publicKey: agent.body.publicKey as string };
  const heart = { thingId: ids.heart, publicKey: new SensingThing(ids.heart).publicKey };
  say.step(
    'R1',
    wearer,
    `registers the phone hub ${ids.hub}, the watch ${ids.watch} (autonomous) and the heart-rate sensor ${ids.heart} (behind the hub)`,
  );
  for (const [t, kind, accessMode] of [
    [hub, 'GATEWAY', 'AUTONOMOUS'],
    [watch, 'DEVICE', 'AUTONOMOUS'],
    [heart, 'SENSOR', 'GATEWAY'],
  ] as const) {
    const res = expect(
      await wearer.call('POST', '/r1/things', {
        thingId: t.thingId,
        platformId: ids.iot,
        kind,
        accessMode,
        ...(accessMode === 'GATEWAY' ? { gatewayId: ids.hub, agents: [ids.agent] } : {}),
        publicKey: t.publicKey,
        classification: 'CONFIDENTIAL',
        policy: policy([ids.mva, ids.mvb]),
      }),
      201,
      `registering ${t.thingId}`,
    );
    say.ledger(`thing ${t.thingId} (${kind}, ${accessMode}) owned by ${wearer.principal} (${tx(res)})`);
  }
  say.note(`policy: metaverses ${ids.mva} and ${ids.mvb}; DPM only ${ids.providers[0]}; purpose fitness`);

  const avatars: Record<'a' | 'b', Record<'watch' | 'heart', string>> = {
    a: { watch: `watch-a-${r}`, heart: `heart-a-${r}` },
    b: { watch: `watch-b-${r}`, heart: `heart-b-${r}` },
  };
  for (const [op, mv, side, level] of [
    [opA, ids.mva, 'a', 3],
    [opB, ids.mvb, 'b', 2],
  ] as const) {
    say.step('R1', op, `maps the watch and the heart-rate sensor into ${mv} as avatars`);
    for (const [thingId, avatarId] of [
      [ids.watch, avatars[side].watch],
      [ids.heart, avatars[side].heart],
    ]) {
      expect(
        await op.call('POST', '/r1/avatars', { avatarId, thingId, metaverseId: mv, mode: 'ACTIVE', capabilityLevel: level }),
        201,
        `mapping ${avatarId}`,
      );
    }
    say.step('R1', wearer, `approves both mappings into ${mv} (X1: the thing's side agrees; trust rule 8)`);
    for (const avatarId of [avatars[side].watch, avatars[side].heart])
      expect(await wearer.call('POST', `/r1/avatars/${avatarId}/approve`), 200, `approving ${avatarId}`);
  }
  const subs = {
    a: [await subscribe(cast.url, opA, avatars.a.watch), await subscribe(cast.url, opA, avatars.a.heart)],
    b: [await subscribe(cast.url, opB, avatars.b.watch), await subscribe(cast.url, opB, avatars.b.heart)],
  };
  const count = (side: 'a' | 'b') => subs[side].reduce((n, s) => n + s.readings.length, 0);

  const send = async (who: Actor, t: SensingThing, readings: unknown[]) =>
    expect(await who.call('POST', `/r1/things/${t.thingId}/readings`, { readings }), 202, `readings of ${t.thingId}`);
  const burst = async () => {
    const now = Date.now();
    await send(wearer, watch, [
      ...watch.readings('wrist', 10, (i) => [Math.sin(i), Math.cos(i), 0.2], now),
      ...watch.readings('ankle', 10, (i) => [Math.cos(i), 0.1, Math.sin(i)], now),
      ...watch.readings('head', 10, (i) => [0.05 * i, 0.02, 0.01], now),
    ]);
    // The constrained sensor cannot sign: it hands its values to the hub's thing agent, which signs as the IoT gateway.
    const beats = Array.from({ length: 10 }, (_, i) => ({
      time: new Date(now + i * 20).toISOString(),
      sensor: 'heart-rate',
      value: 62 + (i % 6),
    }));
    expect(await wearer.call('POST', `/agents/${ids.agent}/readings`, { thingId: ids.heart, readings: beats }), 202, 'heart-rate readings');
    return 40;
  };
  say.step('R1', `watch and hub`, "send readings (the watch signs its own; the hub's thing agent signs for the heart-rate sensor)");
  const first = await burst();
  const delivered = {
    metaverseA: await until(
      () => count('a'),
      (n) => n >= first,
    ),
    metaverseB: await until(
      () => count('b'),
      (n) => n >= first,
    ),
  };
  say.note(`delivered live: MetaverseA ${delivered.metaverseA} readings, MetaverseB ${delivered.metaverseB} (watch + heart-rate avatars)`);

  const rows = opts.largeRows ?? 120_000;
  const large = motionCsv(rows);
  const sha = createHash('sha256').update(large).digest('hex');
  say.step('R2', wearer, `stores the watch's motion log (${(large.length / 1048576).toFixed(1)} MiB, encrypted, fingerprint anchored)`);
  const stored = expect(
    await wearer.call(
      'PUT',
      `/r2/data/${ids.motion}?thingId=${ids.watch}&category=motion&classification=CONFIDENTIAL&sha256=${sha}`,
      undefined,
      {
        raw: large,
        contentType: 'application/octet-stream',
      },
    ),
    201,
    'storing the motion log',
  );
  say.ledger(`data ${ids.motion} sha256 ${sha.slice(0, 16)}… (${tx(stored)})`);
  say.step('R4', wearer, `grants MetaverseA 'process' on the watch's data for fitness`);
  expect(
    await wearer.call('POST', '/r4/grants', {
      grantId: ids.grant,
      resourceType: 'THING',
      resourceId: ids.watch,
      grantee: { type: 'MSP', id: MVA },
      actions: ['process', 'read'],
      purpose: 'fitness',
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    }),
    201,
    'granting MetaverseA',
  );

  let refusedProvider = '';
  let dpmJobs: SmartwatchSummary['dpmJobs'] = [];
  if (opts.dpm !== false) {
    const out = await runJobs(cast, say, {
      providers: ids.providers,
      allowed: ids.providers[0],
      requester: opA,
      metaverseId: ids.mva,
      dataIds: [ids.motion],
      purpose: 'fitness',
    });
    refusedProvider = out.refused;
    dpmJobs = out.jobs;
  }

  say.step('R1', wearer, `revokes ${ids.mvb}: the policy now allows only ${ids.mva}`);
  const revoked = expect(await wearer.call('PUT', `/r1/things/${ids.watch}/policy`, policy([ids.mva])), 200, 'revoking B (watch)');
  expect(await wearer.call('PUT', `/r1/things/${ids.heart}/policy`, policy([ids.mva])), 200, 'revoking B (heart-rate)');
  say.ledger(`policy of ${ids.watch} and ${ids.heart}: metaverses ${ids.mva} only (${tx(revoked)})`);
  // The gateway re-reads a thing's record at most every 2 s (MVSEC telemetry cache TTL).
  await sleep(2_500);
  const before = { a: count('a'), b: count('b') };
  say.step('R1', 'watch and hub', 'send more readings');
  const second = await burst();
  const afterA = await until(
    () => count('a'),
    (n) => n >= before.a + second,
  );
  await until(
    () => subs.b.every((s) => s.closed !== undefined),
    (v) => v,
    10_000,
  );
  const afterRevocation = { metaverseA: afterA - before.a, metaverseB: count('b') - before.b, closedB: subs.b[0].closed };
  say.note(
    `after revocation: MetaverseA got ${afterRevocation.metaverseA} more, MetaverseB ${afterRevocation.metaverseB}; B's stream closed: ${afterRevocation.closedB}`,
  );
  for (const s of [...subs.a, ...subs.b]) s.close();

  say.step('audit', auditor, `reads every movement of the watch's data`);
  const moves = expect(await auditor.call('GET', `/audit/things/${ids.watch}/movements`), 200, 'movements');
  const movements = (moves.body.items ?? moves.body).length as number;
  say.note(`movements of ${ids.watch}'s data on the ledger: ${movements}`);
  for (const j of dpmJobs) {
    const t = expect(await auditor.call('GET', `/audit/jobs/${j.jobId}/trail`), 200, `trail of ${j.jobId}`);
    say.note(
      `DPM job ${j.jobId} for ${j.requester}: ${j.status}, output ${j.outputSha256.slice(0, 16)}…, ${t.body.timeline.length} entries in its receipt trail`,
    );
  }

  return {
    watchId: ids.watch,
    heartId: ids.heart,
    delivered,
    afterRevocation,
    largeInput: { dataId: ids.motion, bytes: large.length, sha256: sha },
    refusedProvider,
    dpmJobs,
    movements,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { demoMain } = await import('./main.js');
  demoMain('U1 — smartwatch', (cast, say) => runSmartwatch(cast, say));
}
