/**
 * The live event stream (M1, M2) on the real network: an auditor following /events over a
 * WebSocket receives the activity event of a transaction committed through the gateway, with its
 * transaction id and block; replays from a past block with startBlock; a caller the chaincode does
 * not let read the trail is refused before the upgrade with 403 and the contract's reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';
import { retireMetaverses } from './support/domain.js';

interface Frame {
  type: string;
  txId?: string;
  blockNumber?: string;
  name?: string;
  payload?: { fn?: string; changes?: { subjectType: string; subjectId: string; action: string }[] };
}

function follow(url: string, token: string): Promise<{ frames: Frame[]; ws: WebSocket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['bearer', token]);
    const frames: Frame[] = [];
    ws.on('message', (m) => frames.push(JSON.parse(m.toString()) as Frame));
    ws.once('open', () => resolve({ frames, ws }));
    ws.once('unexpected-response', (_q, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

async function until(done: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end;) await new Promise((r) => setTimeout(r, 200));
}

describe('live event stream /events (M1, M2)', () => {
  let gw: LiveGateway;
  let auditor: Client, admin: Client, creator: Client;
  before(async () => {
    await retireMetaverses('MetaverseAMSP', 'MetaverseBMSP'); // an MSP runs one ACTIVE metaverse platform (chaincode rule 6)
    gw = await startLiveGateway();
    [auditor, admin, creator] = await Promise.all([
      gw.as('MetaverseAMSP', 'auditor'),
      gw.as('MetaverseAMSP', 'admin'),
      gw.as('IoTPlatformMSP', 'creator'),
    ]);
  });
  after(() => gw?.close());

  const wsUrl = (q = '') => `${gw.url.replace(/^http/, 'ws')}/events${q}`;

  it('M1: an auditor receives the activity event of a committed transaction; startBlock replays it', async () => {
    const live = await follow(wsUrl(), auditor.token);
    assert.ok('ws' in live, JSON.stringify(live));
    const platformId = `ev-mva-${gw.run}`;
    const p = await admin.call('POST', '/r5/platforms', { platformId, type: 'METAVERSE', name: 'A', capabilityLevel: 3 });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    await until(() => live.frames.some((f) => f.txId === p.body.txId));
    live.ws.close();
    const ev = live.frames.find((f) => f.txId === p.body.txId);
    assert.ok(ev, JSON.stringify(live.frames.slice(0, 5)));
    assert.equal(ev.type, 'event');
    assert.equal(ev.name, 'mvsec.activity');
    assert.ok(
      ev.payload?.changes?.some((c) => c.subjectId === platformId),
      JSON.stringify(ev.payload),
    );
    assert.match(ev.blockNumber!, /^\d+$/);

    const replay = await follow(wsUrl(`?startBlock=${ev.blockNumber}`), auditor.token);
    assert.ok('ws' in replay);
    await until(() => replay.frames.some((f) => f.txId === p.body.txId));
    replay.ws.close();
    assert.ok(replay.frames.some((f) => f.txId === p.body.txId && f.blockNumber === ev.blockNumber));
  });

  it("M2/A2: a caller without audit rights is refused before the upgrade with the chaincode's reason; bad input is 400", async () => {
    const no = await follow(wsUrl(), creator.token);
    assert.ok('status' in no);
    assert.equal(no.status, 403);
    assert.match(JSON.parse(no.body).detail, /^DENIED: reading the audit trail needs role auditor, monitor or admin/);
    const anon = await follow(wsUrl(), 'not-a-token');
    assert.ok('status' in anon);
    assert.equal(anon.status, 401);
    const bad = await follow(wsUrl('?startBlock=abc'), auditor.token);
    assert.ok('status' in bad);
    assert.equal(bad.status, 400);
    const plain = await fetch(`${gw.url}/events`);
    assert.equal(plain.status, 426);
  });
});
