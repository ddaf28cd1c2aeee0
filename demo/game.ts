/**
 * U2 — the cross-metaverse game (MISSION.md U2), narrated step by step against the running system:
 * a player's sensed environment (body temperature, head movement, eye tracking) feeds an avatar in
 * game A; the avatar's items move to game B under double verification (game A's platform, game
 * B's platform, the player's consent); a move without consent and a move replayed after execution
 * are refused; one shared DPM provider serves both games; an auditor summarises the trail.
 *
 *   npm start            (once; the system keeps running)
 *   npm run demo:game
 */
import { createHash } from 'node:crypto';
import { runShared } from './dpm-step.js';
import {
  expect,
  registerPlatform,
  IOT,
  MVA,
  MVB,
  SensingThing,
  StepFailed,
  subscribe,
  tx,
  until,
  type Cast,
  type Narrator,
} from './lib.js';

export interface GameSummary {
  thingId: string;
  avatars: { gameA: string; gameB: string };
  transferId: string;
  readingsDelivered: number;
  refusedWithoutConsent: string;
  refusedReplay: string;
  deliveredSha256: string;
  transferSteps: string[];
  dpmJobs: { jobId: string; requester: string; status: string; outputSha256: string }[];
  movements: number;
}

export async function runGame(cast: Cast, say: Narrator, opts: { dpm?: boolean } = {}): Promise<GameSummary> {
  const r = cast.run;
  const ids = {
    iot: `iot-${r}`,
    gameA: `game-a-${r}`,
    gameB: `game-b-${r}`,
    rig: `player-rig-${r}`,
    heroA: `hero-a-${r}`,
    heroB: `hero-b-${r}`,
    items: `hero-items-${r}`,
    move: `move-items-${r}`,
    session: `play-session-${r}`,
  };
  const [iotOp, opA, opB, player, auditor] = await Promise.all([
    cast.actor(IOT, 'admin', 'IoT platform operator'),
    cast.actor(MVA, 'admin', 'Game A operator'),
    cast.actor(MVB, 'admin', 'Game B operator'),
    cast.actor(IOT, 'creator', 'Player'),
    cast.actor(MVA, 'auditor', 'Auditor'),
  ]);

  say.step('R5', 'the three platforms', 'register, each under its own organisation');
  await registerPlatform(say, iotOp, { platformId: ids.iot, type: 'IOT', name: 'Player sensing platform', capabilityLevel: 3 });
  await registerPlatform(say, opA, { platformId: ids.gameA, type: 'METAVERSE', name: 'Game A', capabilityLevel: 3 });
  await registerPlatform(say, opB, { platformId: ids.gameB, type: 'METAVERSE', name: 'Game B', capabilityLevel: 3 });
  say.step('R5', opA, `proposes federation with ${ids.gameB}; Game B accepts (endorsed by both metaverses)`);
  expect(
    await opA.call('POST', '/r5/federations', { platformId: ids.gameA, peerPlatformId: ids.gameB, terms: 'item portability' }),
    201,
    'federation',
  );
  const fed = expect(await opB.call('POST', `/r5/federations/${ids.gameB}/${ids.gameA}/accept`), 200, 'accepting federation');
  say.ledger(`federation ${ids.gameA} ↔ ${ids.gameB} ACTIVE (${tx(fed)})`);

  say.step(
    'R1',
    player,
    `registers the sensing rig ${ids.rig} (body temperature, head movement, eye tracking), autonomous, with its policy`,
  );
  const rig = new SensingThing(ids.rig);
  const providerId = `shared-dpm-${r}`;
  expect(
    await player.call('POST', '/r1/things', {
      thingId: ids.rig,
      platformId: ids.iot,
      kind: 'SYSTEM',
      accessMode: 'AUTONOMOUS',
      publicKey: rig.publicKey,
      classification: 'CONFIDENTIAL',
      policy: {
        storage: 'ANY',
        allowedMetaverses: [ids.gameA, ids.gameB],
        allowedDpmProviders: [providerId],
        purposes: ['gameplay', 'analytics'],
        retentionDays: 30,
        encryptionRequired: true,
      },
    }),
    201,
    'registering the rig',
  );
  say.ledger(`thing ${ids.rig} owned by ${player.principal}; policy: metaverses ${ids.gameA}, ${ids.gameB}; DPM ${providerId}`);

  say.step('R1', opA, `maps the rig into Game A as avatar ${ids.heroA} and subscribes to its live stream`);
  expect(
    await opA.call('POST', '/r1/avatars', {
      avatarId: ids.heroA,
      thingId: ids.rig,
      metaverseId: ids.gameA,
      mode: 'ACTIVE',
      capabilityLevel: 3,
    }),
    201,
    'mapping avatar A',
  );
  expect(await player.call('POST', `/r1/avatars/${ids.heroA}/approve`), 200, 'the player approving avatar A');
  const stream = await subscribe(cast.url, opA, ids.heroA);
  say.step('R1', `rig ${ids.rig}`, 'sends signed readings: body temperature, head movement, eye tracking');
  const readings = [
    ...rig.readings('body-temp', 20, (i) => 36.5 + (i % 5) / 10),
    ...rig.readings('head', 20, (i) => [Math.sin(i / 3), Math.cos(i / 3), 0.1]),
    ...rig.readings('eye', 20, (i) => [0.4 + (i % 7) / 100, 0.6]),
  ];
  const accepted = expect(await player.call('POST', `/r1/things/${ids.rig}/readings`, { readings }), 202, 'sending readings');
  const got = await until(
    () => stream.readings.length,
    (n) => n >= readings.length,
  );
  stream.close();
  say.ledger(`${accepted.body.accepted} readings accepted (signatures verified, sequence checked); Merkle batches anchored`);
  say.note(`Game A's avatar received ${got} readings live`);

  say.step('R2', player, `stores ${ids.heroA}'s items (encrypted, fingerprint anchored)`);
  const items = Buffer.from(JSON.stringify({ avatar: ids.heroA, items: ['sword of dawn', 'tracker visor', 'potion x3'], level: 12 }));
  const sha = createHash('sha256').update(items).digest('hex');
  const stored = expect(
    await player.call(
      'PUT',
      `/r2/data/${ids.items}?thingId=${ids.rig}&avatarId=${ids.heroA}&category=items&classification=CONFIDENTIAL&sha256=${sha}`,
      undefined,
      {
        raw: items,
        contentType: 'application/octet-stream',
      },
    ),
    201,
    'storing the items',
  );
  say.ledger(`data ${ids.items} sha256 ${sha.slice(0, 16)}… encrypted at ${stored.body.storage.uri} (${tx(stored)})`);

  say.step('R3', player, `asks to move the items from Game A to Game B (transfer ${ids.move})`);
  expect(
    await player.call('POST', '/r3/transfers', {
      transferId: ids.move,
      kind: 'MOVE',
      sourceAvatarId: ids.heroA,
      targetMetaverseId: ids.gameB,
      dataId: ids.items,
      dataSha256: sha,
      purpose: 'gameplay',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    }),
    201,
    'requesting the move',
  );
  say.step('R3', opA, 'approves as the source platform');
  expect(await opA.call('POST', `/r3/transfers/${ids.move}/approve`, { side: 'source' }), 200, 'source approval');
  say.step('R3', opB, 'approves as the target platform');
  expect(await opB.call('POST', `/r3/transfers/${ids.move}/approve`, { side: 'target' }), 200, 'target approval');

  say.step('R3', opB, 'tries to execute the move before the player consented');
  const early = expect(await opB.call('POST', `/r3/transfers/${ids.move}/execute`, { dataSha256: sha }), 403, 'execute without consent');
  say.note(`refused: ${early.body.detail}`);

  say.step('R3', player, 'consents (the third verification)');
  expect(await player.call('POST', `/r3/transfers/${ids.move}/consent`), 200, 'consent');
  say.step('R3', opB, 'executes the move and receives the items: recorded on the ledger first, then delivered');
  const exec = expect(await opB.call('POST', `/r3/transfers/${ids.move}/delivery`, { dataSha256: sha }), 200, 'execute and deliver');
  const delivered = exec.body as Buffer;
  const deliveredSha = createHash('sha256').update(delivered).digest('hex');
  if (deliveredSha !== sha) throw new StepFailed(`the delivered items hash to ${deliveredSha}, not the bound ${sha}`);
  say.ledger(
    `transfer ${ids.move} EXECUTED once, bound to ${sha.slice(0, 16)}… (tx ${String(exec.headers.get('mvsec-transfer-tx')).slice(0, 16)}…)`,
  );
  say.note(`Game B received ${delivered.length} bytes of items; their SHA-256 is the fingerprint the transfer was bound to`);
  say.step('R3', opB, 'replays the executed move');
  const replay = expect(await opB.call('POST', `/r3/transfers/${ids.move}/delivery`, { dataSha256: sha }), 403, 'replayed delivery');
  say.note(`refused: ${replay.body.detail}`);

  say.step('R1', opB, `maps the rig into Game B as avatar ${ids.heroB}, where the items now live`);
  expect(
    await opB.call('POST', '/r1/avatars', {
      avatarId: ids.heroB,
      thingId: ids.rig,
      metaverseId: ids.gameB,
      mode: 'ACTIVE',
      capabilityLevel: 3,
    }),
    201,
    'mapping avatar B',
  );
  expect(await player.call('POST', `/r1/avatars/${ids.heroB}/approve`), 200, 'the player approving avatar B');

  let dpmJobs: GameSummary['dpmJobs'] = [];
  if (opts.dpm !== false) {
    say.step('R2', player, `stores the rig's play-session log ${ids.session} (head movement, eye tracking, body temperature)`);
    const rows = Array.from({ length: 20 }, (_, i) =>
      [i * 50, Math.sin(i / 3), Math.cos(i / 3) / 4, 0.4 + (i % 7) / 100, 0.6, 36.5 + (i % 5) / 10].join(','),
    );
    const session = Buffer.from(['t,head.yaw,head.pitch,eye.x,eye.y,body.temp', ...rows].join('\n') + '\n');
    const sessionSha = createHash('sha256').update(session).digest('hex');
    const logged = expect(
      await player.call(
        'PUT',
        `/r2/data/${ids.session}?thingId=${ids.rig}&category=session&classification=CONFIDENTIAL&sha256=${sessionSha}`,
        undefined,
        {
          raw: session,
          contentType: 'application/octet-stream',
        },
      ),
      201,
      'storing the session log',
    );
    say.ledger(`data ${ids.session} sha256 ${sessionSha.slice(0, 16)}… (${tx(logged)})`);
    say.step('R4', player, `grants Game A and Game B 'process' on the rig's data for analytics`);
    for (const msp of [MVA, MVB])
      expect(
        await player.call('POST', '/r4/grants', {
          grantId: `process-${msp}-${r}`,
          resourceType: 'THING',
          resourceId: ids.rig,
          grantee: { type: 'MSP', id: msp },
          actions: ['process'],
          purpose: 'analytics',
          validUntil: new Date(Date.now() + 86_400_000).toISOString(),
        }),
        201,
        `granting ${msp}`,
      );
    dpmJobs = await runShared(cast, say, {
      providerId,
      dataIds: [ids.session],
      purpose: 'analytics',
      requesters: [
        { actor: opA, metaverseId: ids.gameA },
        { actor: opB, metaverseId: ids.gameB },
      ],
    });
  }

  say.step('audit', auditor, `reads the transfer's trail and every movement of ${ids.rig}'s data`);
  const trail = expect(await auditor.call('GET', `/audit/transfers/${ids.move}/trail`), 200, 'transfer trail');
  const transfer = expect(await opB.call('GET', `/r3/transfers/${ids.move}`), 200, 'reading the transfer');
  const moves = expect(await auditor.call('GET', `/audit/things/${ids.rig}/movements`), 200, 'movements');
  const movements = (moves.body.items ?? moves.body).length as number;
  const transferSteps = (transfer.body.steps as { status: string }[]).map((s) => s.status);
  say.note(`transfer ${ids.move}: ${transferSteps.join(' → ')} (${trail.body.timeline.length} entries in its ledger timeline)`);
  say.note(`movements of ${ids.rig}'s data recorded on the ledger: ${movements}`);
  for (const j of dpmJobs) say.note(`DPM job ${j.jobId} for ${j.requester}: ${j.status}, output ${j.outputSha256.slice(0, 16)}…`);

  return {
    thingId: ids.rig,
    avatars: { gameA: ids.heroA, gameB: ids.heroB },
    transferId: ids.move,
    readingsDelivered: got,
    refusedWithoutConsent: early.body.detail,
    refusedReplay: replay.body.detail,
    deliveredSha256: deliveredSha,
    transferSteps,
    dpmJobs,
    movements,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { demoMain } = await import('./main.js');
  demoMain('U2 — cross-metaverse game', (cast, say) => runGame(cast, say));
}
