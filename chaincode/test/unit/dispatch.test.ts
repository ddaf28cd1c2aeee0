/**
 * The deployed path: the chaincode compiled by tsc (real decorator metadata) dispatched by
 * fabric-shim's ChaincodeFromContract with the serializers the chaincode exports, as
 * `fabric-chaincode-node server` does. Only the X.509 parsing of the creator is replaced.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { MemoryLedger, MemoryStub } from '../support/memory-ledger';

const chaincodeDir = resolve(__dirname, '..', '..');
const outDir = join(chaincodeDir, 'test', '.dist');
const load = createRequire(join(chaincodeDir, 'package.json'));

interface Who {
  mspId: string;
  role: string;
  principal: string;
}
let current: Who;

class FakeClientIdentity {
  getMSPID() {
    return current.mspId;
  }
  getID() {
    return `x509::CN=${current.principal}::CN=ca`;
  }
  getAttributeValue(name: string) {
    return (current as unknown as Record<string, string>)[name] ?? null;
  }
}

describe('deployed dispatch (tsc build + fabric-shim ChaincodeFromContract)', () => {
  let invoke: (who: Who, fcn: string, args: string[]) => Promise<{ status: number; message?: string; payload: string; events: number }>;

  before(() => {
    execFileSync(
      process.execPath,
      [load.resolve('typescript/bin/tsc'), '-p', join(chaincodeDir, 'tsconfig.json'), '--outDir', outDir, '--sourceMap', 'false'],
      { stdio: 'inherit' },
    );
    load('fabric-shim/lib/chaincode').ClientIdentity = FakeClientIdentity;
    // The endorser's clock agrees with the proposals' (fixed) timestamps: an honest client.
    const { LedgerContext } = load(join(outDir, 'common', 'ledger-contract.js'));
    const { txMillis } = load(join(outDir, 'common', 'time.js'));
    LedgerContext.prototype.endorserNow = function endorserNow(this: unknown) {
      return txMillis(this);
    };
    const ChaincodeFromContract = load('fabric-shim/lib/contract-spi/chaincodefromcontract.js');
    const { contracts, serializers } = load(join(outDir, 'index.js'));
    const cc = new ChaincodeFromContract([...contracts], serializers, {}, 'mvsec-chaincode', '0.1.0');
    const ledger = new MemoryLedger();
    let n = 0;
    invoke = async (who, fcn, args) => {
      current = who;
      n += 1;
      const stub = new MemoryStub(ledger, {
        txId: `d${n}`,
        timestampMs: Date.parse('2025-03-01T10:00:00Z') + n * 1000,
        fcn,
        args,
        mspId: who.mspId,
      });
      (stub as unknown as { getBufferArgs: () => Buffer[] }).getBufferArgs = () => [fcn, ...args].map((a) => Buffer.from(a));
      const res = await cc.invokeFunctionality(stub);
      if (res.status === 200) stub.commit(['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP']);
      return { status: res.status, message: res.message, payload: Buffer.from(res.payload ?? []).toString(), events: stub.eventCount };
    };
  });

  const admin = { mspId: 'IoTPlatformMSP', role: 'admin', principal: 'iot-admin' };

  it('object results are sorted-key JSON; one event per submit', async () => {
    const res = await invoke(admin, 'platform:RegisterPlatform', [
      JSON.stringify({ platformId: 'iot-1', type: 'IOT', name: 'x', capabilityLevel: 3 }),
    ]);
    assert.equal(res.status, 200, res.message);
    assert.equal(res.events, 1);
    const keys = Object.keys(JSON.parse(res.payload));
    assert.deepEqual(keys, [...keys].sort());
  });

  it('A1: refusals reach the client as errors with the reason', async () => {
    const res = await invoke({ mspId: 'IoTPlatformMSP', role: 'user', principal: 'bob' }, 'platform:RegisterPlatform', [
      JSON.stringify({ platformId: 'iot-2', type: 'IOT', name: 'x', capabilityLevel: 3 }),
    ]);
    assert.equal(res.status, 500);
    assert.match(res.message ?? '', /^DENIED: registering a platform needs role admin/);
  });

  it('GetMetadata documents every contract, function and record type', async () => {
    const res = await invoke(admin, 'org.hyperledger.fabric:GetMetadata', []);
    assert.equal(res.status, 200, res.message);
    const meta = JSON.parse(res.payload);
    for (const c of ['platform', 'thing', 'avatar', 'access', 'transfer', 'data', 'dpm', 'audit', 'alert', 'bench', 'diagnostics'])
      assert.ok(meta.contracts[c], c);
    const names = meta.contracts.transfer.transactions.map((t: { name: string }) => t.name);
    assert.ok(names.includes('ExecuteTransfer'));
    for (const t of ['Thing', 'Transfer', 'DataAnchor', 'DpmJob', 'ActivityRecord', 'Alert', 'Grant', 'AccessDecision'])
      assert.ok(meta.components.schemas[t], t);
  });

  it('string results stay plain text (bench)', async () => {
    assert.equal((await invoke(admin, 'bench:PutTrivial', ['k', 'v'])).status, 200);
    assert.equal((await invoke(admin, 'bench:GetTrivial', ['k'])).payload, 'v');
  });
});
