/**
 * U1 end to end on the real network (MISSION.md U1; R1, R2, R4, R5, R6; F4, X4, X5): the
 * smartwatch demo's scenario run against a live gateway, every step checked by the scenario
 * itself, then its outcome checked here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentNarrator } from '../../demo/lib.js';
import { runSmartwatch } from '../../demo/smartwatch.js';
import { liveCast } from './e2e-support.js';
import { startLiveGateway, type LiveGateway } from './gateway-support.js';

describe('U1 smartwatch, end to end', () => {
  let gw: LiveGateway;
  before(async () => {
    gw = await startLiveGateway();
  });
  after(() => gw?.close());

  it('U1/X5: readings reach both avatars; a large job runs at the allowed DPM provider only; after revoking B, B receives nothing more', async () => {
    const s = await runSmartwatch(liveCast(gw), silentNarrator(), { dpm: process.env.MVSEC_E2E_DPM !== '0', largeRows: 60_000 });
    assert.equal(s.delivered.metaverseA, 40);
    assert.equal(s.delivered.metaverseB, 40);
    assert.equal(s.afterRevocation.metaverseA, 40);
    assert.equal(s.afterRevocation.metaverseB, 0);
    assert.match(s.afterRevocation.closedB ?? '', /does not allow metaverse/);
    assert.ok(s.largeInput.bytes > 1_000_000);
    assert.ok(s.movements >= 0);
  });
});
