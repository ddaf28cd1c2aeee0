/**
 * Trust rule 8 (bound identities), the DPM provider part: a provider is the signing key its admin
 * bound on the ledger, not any certificate of its organisation carrying its principal.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { DpmJob } from '../../src/dpm/dpm-types';
import type { ProviderIdentity } from '../../src/platform/provider-identity';
import { dpm1Certificate, dpm1RogueCertificate } from '../support/certificates';
import { id, rejects, SHA_A, World } from '../support/fixtures';

const OUT = 'c'.repeat(64);
const processGrant = (w: World, grantId: string, grantee: Record<string, string>) => ({
  grantId,
  resourceType: 'THING',
  resourceId: 'watch-1',
  grantee,
  actions: ['process'],
  purpose: 'analytics',
  validUntil: new Date(w.chain.now + 86_400_000).toISOString(),
});

describe('rule 8: the DPM provider is its bound identity', () => {
  let w: World;
  let boundKey: string;
  const submitJob = (jobId: string) =>
    w.chain.submit<DpmJob>(w.dpm, 'SubmitJob', id.aAdmin, [
      { jobId, metaverseId: 'mv-a', providerId: 'dpm-1', inputs: ['d-1'], purpose: 'analytics', envelopeSha256: 'e'.repeat(64) },
    ]);
  const receipt = () =>
    JSON.stringify({
      outputSha256: OUT,
      startedAt: new Date(w.chain.now - 500).toISOString(),
      endedAt: new Date(w.chain.now).toISOString(),
      summary: 'gait analysis',
    });

  beforeEach(async () => {
    w = new World();
    await w.platforms(); // binds dpm-1's and dpm-2's certificates (the providers' admin)
    await w.watch();
    await w.anchor('d-1', SHA_A);
    await w.chain.submit(w.access, 'CreateGrant', id.alice, [processGrant(w, 'g-p', { type: 'MSP', id: 'MetaverseAMSP' })]);
    const bound = await w.chain.evaluate<ProviderIdentity[]>(w.platform, 'ListProviderIdentities', id.auditor, ['dpm-1']);
    assert.equal(bound.length, 1);
    boundKey = bound[0].spkiSha256;
    assert.match(boundKey, /^[0-9a-f]{64}$/);
    assert.match(bound[0].subject, /CN=dpm-1(,|$)/);
    assert.equal(bound[0].boundBy.principal, 'dpm-admin');
  });

  it('X4/A2: a second DPM-CA certificate carrying the provider’s principal can neither accept, fail nor record a receipt', async () => {
    await submitJob('job-1');
    const reason =
      /^DENIED: dpm-1@DPMProviderMSP \(role dpm\) is not the identity bound to provider dpm-1 \(certificate key sha256 [0-9a-f]{64}\)/;
    await rejects(w.chain.submit(w.dpm, 'AcceptJob', id.dpm1Rogue, ['job-1']), 'DENIED', reason);
    await rejects(w.chain.submit(w.dpm, 'FailJob', id.dpm1Rogue, ['job-1', 'sabotage']), 'DENIED', reason);
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1, ['job-1']);
    await rejects(w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1Rogue, ['job-1', receipt()]), 'DENIED', reason);
    const job = await w.chain.evaluate<DpmJob>(w.dpm, 'GetJob', id.auditor, ['job-1']);
    assert.equal(job.status, 'ACCEPTED');
    assert.equal(job.receipt, undefined);
    const done = await w.chain.submit<DpmJob>(w.dpm, 'RecordReceipt', id.dpm1, ['job-1', receipt()]);
    assert.equal(done.status, 'COMPLETED');
  });

  it('X4: an identity without a certificate the chaincode can read is refused', async () => {
    await submitJob('job-2');
    await rejects(w.chain.submit(w.dpm, 'AcceptJob', { mspId: 'DPMProviderMSP', role: 'dpm', principal: 'dpm-1' }, ['job-2']), 'INVALID');
  });

  it('A2: only the provider’s admin binds; the certificate must carry role dpm and the provider’s principal; a key is bound once', async () => {
    await rejects(w.chain.submit(w.platform, 'BindProviderIdentity', id.dpm1, ['dpm-1', dpm1RogueCertificate]), 'DENIED');
    await rejects(w.chain.submit(w.platform, 'BindProviderIdentity', id.aAdmin, ['dpm-1', dpm1RogueCertificate]), 'DENIED');
    await rejects(
      w.chain.submit(w.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-2', dpm1RogueCertificate]),
      'INVALID',
      'carries role dpm and principal dpm-1; a provider identity of dpm-2 carries role dpm and principal dpm-2',
    );
    await rejects(w.chain.submit(w.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-1', 'not a certificate']), 'INVALID');
    await rejects(w.chain.submit(w.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-1', dpm1Certificate]), 'CONFLICT', 'already bound');
    await rejects(
      w.chain.submit(w.platform, 'BindProviderIdentity', id.aAdmin, ['mv-a', dpm1Certificate]),
      'CONFLICT',
      'only DPM providers',
    );
  });

  it('X4: the admin binds a second key (e.g. a new worker) and unbinds the old one, which is then refused', async () => {
    await w.chain.submit(w.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-1', dpm1RogueCertificate]);
    await submitJob('job-3');
    await w.chain.submit(w.dpm, 'AcceptJob', id.dpm1Rogue, ['job-3']);
    await w.chain.submit(w.platform, 'UnbindProviderIdentity', id.dpmAdmin, ['dpm-1', boundKey]);
    await rejects(
      w.chain.submit(w.dpm, 'RecordReceipt', id.dpm1, ['job-3', receipt()]),
      'DENIED',
      'is not the identity bound to provider dpm-1',
    );
    await rejects(w.chain.submit(w.platform, 'UnbindProviderIdentity', id.dpmAdmin, ['dpm-1', boundKey]), 'NOT_FOUND');
    const done = await w.chain.submit<DpmJob>(w.dpm, 'RecordReceipt', id.dpm1Rogue, ['job-3', receipt()]);
    assert.equal(done.status, 'COMPLETED');
  });
});
