/**
 * X7, trust rule 7 through the API (issue: PII through the API): a data object's personal data
 * goes in through the gateway, reaches only the member organisation's private collection —
 * a scan of every block file and of every non-member node's files (state, private data,
 * transient store) for a unique marker finds nothing — is read back by the owner, refused to
 * another organisation, and erased with the object (the fingerprint stays on the ledger).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATA } from '../../scripts/lib/paths.js';
import { IOT, MVA } from './support/domain.js';
import { startLiveGateway, type Client, type LiveGateway } from './gateway-support.js';

/** Every file under `dir` (recursively) whose bytes contain `marker`. */
function filesContaining(dir: string, marker: string): string[] {
  if (!existsSync(dir)) return [];
  const needle = Buffer.from(marker);
  const hits: string[] = [];
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dir, f);
    if (!statSync(path).isFile()) continue;
    if (readFileSync(path).includes(needle)) hits.push(path);
  }
  return hits;
}

describe('X7: PII through the API reaches only the member organisation (real network)', () => {
  let gw: LiveGateway;
  let alice: Client;
  let mvaAdmin: Client;
  let marker: string;
  let dataId: string;
  let thingId: string;
  let piiHash: string;

  before(async () => {
    gw = await startLiveGateway();
    const iotAdmin = await gw.as(IOT, 'admin');
    [alice, mvaAdmin] = await Promise.all([gw.as(IOT, 'creator'), gw.as(MVA, 'admin')]);
    const iotId = `pii-iot-${gw.run}`;
    assert.equal(
      (await iotAdmin.call('POST', '/r5/platforms', { platformId: iotId, type: 'IOT', name: 'IoT', capabilityLevel: 3 })).status,
      201,
    );
    thingId = `pii-watch-${gw.run}`;
    const t = await alice.call('POST', '/r1/things', {
      thingId,
      platformId: iotId,
      kind: 'DEVICE',
      accessMode: 'AUTONOMOUS',
      publicKey: `pk-${gw.run}`,
      classification: 'CONFIDENTIAL',
      policy: { storage: 'ANY', purposes: ['health'], encryptionRequired: true },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    marker = `MARKER${randomUUID().replace(/-/g, '')}`;
    dataId = `pii-d-${gw.run}`;
  });

  after(async () => {
    await gw?.close();
  });

  it('X7: PII is staged through the API and the stored object is anchored to its fingerprint', async () => {
    const staged = await alice.call('PUT', `/r2/data/${dataId}/pii`, { thingId, details: `Alice Example, 1990-01-01, ${marker}` });
    assert.equal(staged.status, 201, JSON.stringify(staged.body));
    assert.equal(staged.body.piiCollection, 'pii_IoTPlatformMSP');
    assert.match(staged.body.piiHash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(staged.body).includes(marker), 'the answer carries no PII');
    piiHash = staged.body.piiHash;
    const q = new URLSearchParams({ thingId, category: 'health', classification: 'CONFIDENTIAL', piiHash });
    const stored = await alice.call('PUT', `/r2/data/${dataId}?${q}`, undefined, {
      raw: Buffer.from('heart-rate record'),
      contentType: 'application/octet-stream',
    });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    assert.equal(stored.body.anchor.piiHash, piiHash);
    assert.equal(stored.body.anchor.piiCollection, 'pii_IoTPlatformMSP');
    // a second staging under the same data id is refused with the reason
    const again = await alice.call('PUT', `/r2/data/${dataId}/pii`, { thingId, details: 'other' });
    assert.equal(again.status, 409, JSON.stringify(again.body));
  });

  it('X7: no block file of any node and no file of a non-member node holds the PII; the member’s own store does', () => {
    const nodes = readdirSync(join(DATA, 'nodes'));
    assert.ok(nodes.includes('peer0.iot') && nodes.includes('peer0.mva') && nodes.some((n) => n.startsWith('orderer')), nodes.join(','));
    for (const node of nodes) {
      const dir = join(DATA, 'nodes', node);
      const scope = node === 'peer0.iot' ? join(dir, 'data', 'ledgersData', 'chains') : dir;
      assert.deepEqual(filesContaining(scope, marker), [], `${node}: ${scope}`);
    }
    // the scan looks at the right bytes: the member peer keeps the PII in its private data store
    const member = filesContaining(join(DATA, 'nodes', 'peer0.iot', 'data'), marker);
    assert.ok(member.length > 0, 'the member peer holds the PII somewhere in its private stores');
    assert.ok(member.every((f) => !f.includes(`${join('ledgersData', 'chains')}`)));
    assert.deepEqual(filesContaining(gw.stateDir, marker), [], 'the gateway keeps no PII at rest');
  });

  it('A1/X7: the owner reads the PII back; another organisation is refused', async () => {
    const mine = await alice.call('GET', `/r2/data/${dataId}/pii`);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.details, `Alice Example, 1990-01-01, ${marker}`);
    const theirs = await mvaAdmin.call('GET', `/r2/data/${dataId}/pii`);
    assert.equal(theirs.status, 403, JSON.stringify(theirs.body));
    assert.ok(!JSON.stringify(theirs.body).includes(marker));
  });

  it('X7: erasure — deleting the object purges the PII; the fingerprint stays on the ledger', async () => {
    const del = await alice.call('DELETE', `/r2/data/${dataId}?reason=${encodeURIComponent('erasure request')}`);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    const gone = await alice.call('GET', `/r2/data/${dataId}/pii`);
    assert.equal(gone.status, 410, JSON.stringify(gone.body));
    assert.match(gone.body.detail, /its PII was erased/);
    assert.ok(!JSON.stringify(gone.body).includes(marker));
    // the deletion record is the anchor: DELETED, fingerprint kept
    assert.equal(del.body.deletion.stage, 'DELETED');
    assert.equal(del.body.deletion.piiHash, piiHash);
  });
});
