import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadTopology } from '../../../network/topology.js';
import { configtx } from '../../../scripts/network/channel.js';

describe('channel configuration generated from the topology', () => {
  const t = loadTopology({});
  const profile = parse(configtx(t)).Profiles.MvsecChannel;

  it('orders with etcdraft over the three orderers, TLS certificates per consenter', () => {
    assert.equal(profile.Orderer.OrdererType, 'etcdraft');
    assert.deepEqual(
      profile.Orderer.EtcdRaft.Consenters.map((c: { Port: number }) => c.Port),
      [7050, 7150, 7250],
    );
    assert.ok(
      profile.Orderer.EtcdRaft.Consenters.every((c: { ClientTLSCert: string }) => c.ClientTLSCert.endsWith('tls/signcerts/cert.pem')),
    );
    assert.deepEqual(profile.Orderer.Organizations[0].OrdererEndpoints, ['127.0.0.1:7050', '127.0.0.1:7150', '127.0.0.1:7250']);
  });

  it('has all four application orgs, anchor peers for the peer orgs, none for the DPM org', () => {
    const orgs = profile.Application.Organizations as { ID: string; AnchorPeers?: { Port: number }[] }[];
    assert.deepEqual(
      orgs.map((o) => o.ID),
      ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP', 'DPMProviderMSP'],
    );
    assert.deepEqual(orgs.find((o) => o.ID === 'MetaverseAMSP')!.AnchorPeers, [{ Host: '127.0.0.1', Port: 8051 }]);
    assert.equal(orgs.find((o) => o.ID === 'DPMProviderMSP')!.AnchorPeers, undefined);
  });

  it('uses NodeOU-based policies: admins by OU admin, endorsement by OU peer', () => {
    const mva = profile.Application.Organizations.find((o: { ID: string }) => o.ID === 'MetaverseAMSP');
    assert.equal(mva.Policies.Admins.Rule, "OR('MetaverseAMSP.admin')");
    assert.equal(mva.Policies.Endorsement.Rule, "OR('MetaverseAMSP.peer')");
  });
});
