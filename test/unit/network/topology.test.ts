import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_TOPOLOGY, loadTopology, ordererOrg, peerOrgs, applicationOrgs } from '../../../network/topology.js';

describe('network topology', () => {
  it('has the default topology of ARCHITECTURE §2: 3 Raft orderers, 3 peer orgs, client-only DPM org', () => {
    const t = loadTopology({});
    assert.equal(ordererOrg(t).orderers.length, 3);
    assert.deepEqual(
      peerOrgs(t).map((o) => o.mspId),
      ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP'],
    );
    assert.ok(applicationOrgs(t).some((o) => o.mspId === 'DPMProviderMSP' && o.peers.length === 0));
    const ports = t.orgs.flatMap((o) => [
      o.ca.port,
      o.ca.operationsPort,
      ...o.orderers.flatMap((x) => [x.port, x.adminPort, x.operationsPort]),
      ...o.peers.flatMap((p) => [p.port, p.chaincodeListenPort, p.operationsPort, p.chaincodeServer.port]),
    ]);
    assert.equal(new Set(ports).size, ports.length, 'no two listeners share a port');
  });

  it('shifts every port by MVSEC_PORT_OFFSET and leaves hosts alone', () => {
    const t = loadTopology({ MVSEC_PORT_OFFSET: '10000' });
    const iot = t.orgs.find((o) => o.key === 'iot')!;
    const base = DEFAULT_TOPOLOGY.orgs.find((o) => o.key === 'iot')!;
    assert.equal(iot.peers[0].port, base.peers[0].port + 10000);
    assert.equal(iot.peers[0].chaincodeServer.port, base.peers[0].chaincodeServer.port + 10000);
    assert.equal(iot.ca.operationsPort, base.ca.operationsPort + 10000);
    assert.equal(iot.peers[0].host, base.peers[0].host);
  });

  it('refuses a port offset that is not a small non-negative integer', () => {
    assert.throws(() => loadTopology({ MVSEC_PORT_OFFSET: 'ten' }), /MVSEC_PORT_OFFSET/);
    assert.throws(() => loadTopology({ MVSEC_PORT_OFFSET: '-5' }), /MVSEC_PORT_OFFSET/);
  });

  it('merges an MVSEC_TOPOLOGY file over the default: orgs by key, nodes by name, new nodes appended', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topo-'));
    const file = join(dir, 't.json');
    writeFileSync(
      file,
      JSON.stringify({
        orgs: [
          {
            key: 'mva',
            peers: [
              { name: 'peer0', host: 'mva.example.net' },
              {
                name: 'peer1',
                host: 'mva.example.net',
                port: 8061,
                chaincodeListenPort: 8062,
                operationsPort: 9462,
                chaincodeServer: { host: 'mva.example.net', port: 9992 },
              },
            ],
          },
        ],
      }),
    );
    const t = loadTopology({ MVSEC_TOPOLOGY: file });
    const mva = t.orgs.find((o) => o.key === 'mva')!;
    assert.equal(mva.peers.length, 2);
    assert.equal(mva.peers[0].host, 'mva.example.net');
    assert.equal(mva.peers[0].port, 8051, 'unchanged fields keep their default');
    assert.equal(mva.peers[1].name, 'peer1');
    assert.equal(t.orgs.length, DEFAULT_TOPOLOGY.orgs.length);
  });

  it('reports a missing or malformed topology file clearly', () => {
    assert.throws(() => loadTopology({ MVSEC_TOPOLOGY: '/nonexistent/t.json' }), /does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'topo-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    assert.throws(() => loadTopology({ MVSEC_TOPOLOGY: join(dir, 'bad.json') }), /not valid JSON/);
  });
});
