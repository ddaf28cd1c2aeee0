/**
 * The network itself (issue: real Fabric network): CA-issued identities with attributes, the
 * Gateway service endorsing across orgs, reading back from another org's peer, and the
 * endorsement policy refusing a transaction endorsed by too few orgs.
 */
import '../../scripts/lib/test-env.js';
import { StatusCode } from '@hyperledger/fabric-gateway';
import type { FabricConnection } from '../../scripts/network/client.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAs, contractOf, newUser, org, utf8 } from './support/network.js';

describe('Fabric network (A1, F4: identities from each org CA; X3: endorsement policy)', () => {
  const mva = org('MetaverseAMSP');
  const mvb = org('MetaverseBMSP');
  let user: { name: string; principal: string };
  let viaMva: FabricConnection;
  let readerViaMvb: FabricConnection;

  before(async () => {
    user = await newUser(mva, { role: 'creator' });
    viaMva = connectAs(mva, user.name);
    const reader = await newUser(mvb, { role: 'auditor' });
    readerViaMvb = connectAs(mvb, reader.name);
  });
  after(() => {
    viaMva?.close();
    readerViaMvb?.close();
  });

  it('A1: an identity enrolled from the Fabric CA carries its role and principal attributes into the chaincode', async () => {
    const who = JSON.parse(utf8(await contractOf(viaMva, 'diagnostics').evaluateTransaction('WhoAmI')));
    assert.equal(who.mspId, 'MetaverseAMSP');
    assert.equal(who.role, 'creator');
    assert.equal(who.principal, user.principal);
    assert.match(who.subject, new RegExp(`CN=${user.name}`));
  });

  it("commits through one org's Gateway and reads the value back from another org's peer", async () => {
    const value = `v-${Date.now()}`;
    const result = await contractOf(viaMva, 'diagnostics').submitAsync('PutProbe', { arguments: ['cross-org', value] });
    const status = await result.getStatus();
    assert.equal(status.successful, true, `commit status ${status.code}`);
    const back = utf8(await contractOf(readerViaMvb, 'diagnostics').evaluateTransaction('GetProbe', 'MetaverseAMSP', 'cross-org'));
    assert.equal(back, value);
  });

  it('X3: a transaction endorsed by one org only is invalidated at commit (policy needs two of three)', async () => {
    const before = utf8(await contractOf(readerViaMvb, 'diagnostics').evaluateTransaction('GetProbe', 'MetaverseAMSP', 'one-org'));
    const proposal = contractOf(viaMva, 'diagnostics').newProposal('PutProbe', {
      arguments: ['one-org', `single-${Date.now()}`],
      endorsingOrganizations: ['MetaverseAMSP'],
    });
    const tx = await proposal.endorse();
    const commit = await tx.submit();
    const status = await commit.getStatus();
    assert.equal(status.successful, false);
    assert.equal(status.code, StatusCode.ENDORSEMENT_POLICY_FAILURE);
    const after = utf8(await contractOf(readerViaMvb, 'diagnostics').evaluateTransaction('GetProbe', 'MetaverseAMSP', 'one-org'));
    assert.equal(after, before, 'the invalid transaction must not change the ledger');
  });
});
