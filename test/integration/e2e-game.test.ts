/**
 * U2 end to end on the real network (MISSION.md U2; R1, R2, R3, R5, R6; X3, X4): the game demo's
 * scenario run against a live gateway, every step checked by the scenario itself, then its
 * outcome checked here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runGame } from '../../demo/game.js';
import { silentNarrator } from '../../demo/lib.js';
import { liveCast } from './e2e-support.js';
import { startLiveGateway, type LiveGateway } from './gateway-support.js';

describe('U2 cross-metaverse game, end to end', () => {
  let gw: LiveGateway;
  before(async () => {
    gw = await startLiveGateway();
  });
  after(() => gw?.close());

  it('U2/X3: items move to game B only with both platforms and the player; no consent and replay refused; trail audited', async () => {
    const say = silentNarrator();
    const s = await runGame(liveCast(gw), say, { dpm: process.env.MVSEC_E2E_DPM !== '0' });
    assert.equal(s.readingsDelivered, 60);
    assert.match(s.refusedWithoutConsent, /^DENIED: .*TARGET_APPROVED/);
    assert.match(s.refusedReplay, /^DENIED: .*EXECUTED/);
    assert.match(s.deliveredSha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(s.transferSteps, ['REQUESTED', 'SOURCE_APPROVED', 'TARGET_APPROVED', 'CONSENTED', 'EXECUTED']);
    assert.ok(s.movements >= 1, `movements ${s.movements}`);
    assert.ok(say.lines.some((l) => l.startsWith('[R3] Game B operator: executes')));
  });
});
