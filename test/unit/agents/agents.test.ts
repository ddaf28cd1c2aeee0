/** The agent store (A2, C1): agents survive a restart, keys sealed at rest, sequence numbers never reused. */
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentStore, agentCaller } from '../../../gateway/src/r1-things/agents/agents.js';

describe('agent store (A2, C1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mvsec-agents-'));
  const key = randomBytes(32);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base = {
    kind: 'thing' as const,
    mspId: 'IoTPlatformMSP',
    serves: ['t1'],
    sensors: [],
    createdBy: { principal: 'o', mspId: 'IoTPlatformMSP' },
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('a thing agent gets a signing key, sealed at rest; a restart keeps the agent, its key and its counters', () => {
    const s1 = new AgentStore(key, dir);
    const a = s1.create({ agentId: 'hub-agent', ...base });
    assert.equal(s1.reserve(a, 't1', 5), 1);
    assert.equal(s1.reserve(a, 't1', 2), 6);
    const text = readFileSync(join(dir, 'agents', 'agents.json'), 'utf8');
    assert.doesNotMatch(text, /PRIVATE KEY/);

    const s2 = new AgentStore(key, dir);
    const b = s2.get('hub-agent')!;
    assert.equal(b.publicKey, a.publicKey);
    assert.equal(s2.reserve(b, 't1', 1), 8);
    const msg = Buffer.from('reading');
    const sig = sign('sha256', msg, s2.signingKey(b));
    assert.ok(verify('sha256', msg, createPublicKey({ key: Buffer.from(b.publicKey!, 'base64'), format: 'der', type: 'spki' }), sig));
    assert.throws(() => new AgentStore(randomBytes(32), dir).signingKey(b));
  });

  it('an agent transacts as its own principal with its kind of agent role', () => {
    assert.deepEqual(agentCaller({ agentId: 'x', kind: 'avatar', mspId: 'MetaverseAMSP' }), {
      principal: 'x',
      mspId: 'MetaverseAMSP',
      role: 'avatar-agent',
      issuer: 'gateway-agent',
      amr: ['agent'],
    });
    const s = new AgentStore(key);
    const e = s.create({ agentId: 'ent', ...base, kind: 'entity' });
    assert.equal(e.publicKey, undefined);
    assert.throws(() => s.signingKey(e), /no signing key/);
  });
});
