/** Identities and a small world (platforms, federation, a thing, avatars) shared by the contract tests. */
import assert from 'node:assert/strict';
import { AccessContract } from '../../src/access/access-contract';
import { AlertContract } from '../../src/alert/alert-contract';
import { AuditContract } from '../../src/audit/audit-contract';
import { AvatarContract } from '../../src/avatar/avatar-contract';
import { BenchContract } from '../../src/bench/bench-contract';
import { DataContract } from '../../src/data/data-contract';
import { DpmContract } from '../../src/dpm/dpm-contract';
import { GovernanceContract } from '../../src/governance/governance-contract';
import { PlatformContract } from '../../src/platform/platform-contract';
import { ThingContract } from '../../src/thing/thing-contract';
import { TransferContract } from '../../src/transfer/transfer-contract';
import { dpm1Certificate, dpm1RogueCertificate, dpm2Certificate } from './certificates';
import { type Identity, TestChain } from './harness';

export const id = {
  iotAdmin: { mspId: 'IoTPlatformMSP', role: 'admin', principal: 'iot-admin' },
  alice: { mspId: 'IoTPlatformMSP', role: 'creator', principal: 'alice' },
  aliceAsUser: { mspId: 'IoTPlatformMSP', role: 'user', principal: 'alice' },
  bob: { mspId: 'IoTPlatformMSP', role: 'user', principal: 'bob' },
  carol: { mspId: 'IoTPlatformMSP', role: 'creator', principal: 'carol' },
  thingAgent: { mspId: 'IoTPlatformMSP', role: 'thing-agent', principal: 'agent-t1' },
  watch: { mspId: 'IoTPlatformMSP', role: 'thing-agent', principal: 'watch-1' },
  aAdmin: { mspId: 'MetaverseAMSP', role: 'admin', principal: 'a-admin' },
  aCreator: { mspId: 'MetaverseAMSP', role: 'creator', principal: 'a-creator' },
  aAgent: { mspId: 'MetaverseAMSP', role: 'avatar-agent', principal: 'a-agent' },
  aUser: { mspId: 'MetaverseAMSP', role: 'user', principal: 'a-user' },
  bAdmin: { mspId: 'MetaverseBMSP', role: 'admin', principal: 'b-admin' },
  bAgent: { mspId: 'MetaverseBMSP', role: 'avatar-agent', principal: 'b-agent' },
  bUser: { mspId: 'MetaverseBMSP', role: 'user', principal: 'b-user' },
  dpmAdmin: { mspId: 'DPMProviderMSP', role: 'admin', principal: 'dpm-admin' },
  dpm1: { mspId: 'DPMProviderMSP', role: 'dpm', principal: 'dpm-1', certificate: dpm1Certificate },
  dpm2: { mspId: 'DPMProviderMSP', role: 'dpm', principal: 'dpm-2', certificate: dpm2Certificate },
  /** a second DPM-CA certificate carrying dpm-1's principal, never bound (rule 8) */
  dpm1Rogue: { mspId: 'DPMProviderMSP', role: 'dpm', principal: 'dpm-1', certificate: dpm1RogueCertificate },
  auditor: { mspId: 'IoTPlatformMSP', role: 'auditor', principal: 'auditor-1' },
  monitor: { mspId: 'MetaverseAMSP', role: 'monitor', principal: 'monitor-1' },
  noRole: { mspId: 'IoTPlatformMSP', principal: 'nobody' },
} satisfies Record<string, Identity>;

export const SHA_A = 'a'.repeat(64);
export const SHA_B = 'b'.repeat(64);

export class World {
  readonly chain = new TestChain();
  readonly platform = new PlatformContract();
  readonly thing = new ThingContract();
  readonly avatar = new AvatarContract();
  readonly access = new AccessContract();
  readonly transfer = new TransferContract();
  readonly data = new DataContract();
  readonly dpm = new DpmContract();
  readonly audit = new AuditContract();
  readonly alert = new AlertContract();
  readonly bench = new BenchContract();
  readonly governance = new GovernanceContract();

  async platforms(): Promise<void> {
    const c = this.chain;
    await c.submit(this.platform, 'RegisterPlatform', id.iotAdmin, [
      { platformId: 'iot-1', type: 'IOT', name: 'IoT platform', capabilityLevel: 3 },
    ]);
    await c.submit(this.platform, 'RegisterPlatform', id.aAdmin, [
      { platformId: 'mv-a', type: 'METAVERSE', name: 'Game A', capabilityLevel: 3 },
    ]);
    await c.submit(this.platform, 'RegisterPlatform', id.bAdmin, [
      { platformId: 'mv-b', type: 'METAVERSE', name: 'Game B', capabilityLevel: 2 },
    ]);
    await c.submit(this.platform, 'RegisterPlatform', id.dpmAdmin, [
      { platformId: 'dpm-1', type: 'DPM', name: 'DPM one', capabilityLevel: 3 },
    ]);
    await c.submit(this.platform, 'RegisterPlatform', id.dpmAdmin, [
      { platformId: 'dpm-2', type: 'DPM', name: 'DPM two', capabilityLevel: 3 },
    ]);
    // rule 8: each provider's admin binds the provider's signing identity
    await c.submit(this.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-1', dpm1Certificate]);
    await c.submit(this.platform, 'BindProviderIdentity', id.dpmAdmin, ['dpm-2', dpm2Certificate]);
  }

  async federate(): Promise<void> {
    await this.chain.submit(this.platform, 'ProposeFederation', id.aAdmin, ['mv-a', 'mv-b', 'games']);
    await this.chain.submit(this.platform, 'AcceptFederation', id.bAdmin, ['mv-b', 'mv-a']);
  }

  /** Thing "watch-1" owned by alice, policy allowing mv-a, mv-b, dpm-1 for 'analytics'. */
  async watch(overrides: Record<string, unknown> = {}): Promise<void> {
    await this.chain.submit(this.thing, 'RegisterThing', id.alice, [
      {
        thingId: 'watch-1',
        platformId: 'iot-1',
        kind: 'DEVICE',
        accessMode: 'AUTONOMOUS',
        publicKey: 'pk-watch-1',
        owner: 'alice',
        classification: 'CONFIDENTIAL',
        agents: ['agent-t1'],
        policy: {
          storage: 'ANY',
          allowedMetaverses: ['mv-a', 'mv-b'],
          allowedDpmProviders: ['dpm-1'],
          purposes: ['analytics', 'gameplay'],
          retentionDays: 30,
          encryptionRequired: true,
        },
        ...overrides,
      },
    ]);
  }

  async avatars(): Promise<void> {
    await this.chain.submit(this.avatar, 'MapAvatar', id.aAdmin, [
      { avatarId: 'av-a1', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'ACTIVE', capabilityLevel: 3, agents: ['a-agent'] },
    ]);
    await this.chain.submit(this.avatar, 'MapAvatar', id.aAdmin, [
      { avatarId: 'av-a2', thingId: 'watch-1', metaverseId: 'mv-a', mode: 'PASSIVE', capabilityLevel: 1 },
    ]);
    await this.chain.submit(this.avatar, 'MapAvatar', id.bAdmin, [
      { avatarId: 'av-b1', thingId: 'watch-1', metaverseId: 'mv-b', mode: 'ACTIVE', capabilityLevel: 2, agents: ['b-agent'] },
    ]);
    // trust rule 8: the owner agrees to each mapping
    for (const avatarId of ['av-a1', 'av-a2', 'av-b1']) await this.chain.submit(this.avatar, 'ApproveMapping', id.alice, [avatarId]);
  }

  async anchor(dataId = 'd-1', sha256 = SHA_A, extra: Record<string, unknown> = {}, who: Identity = id.alice): Promise<void> {
    await this.chain.submit(this.data, 'AnchorData', who, [
      {
        dataId,
        thingId: 'watch-1',
        sha256,
        size: 1024,
        category: 'motion',
        classification: 'CONFIDENTIAL',
        storage: { placement: 'ON_PLATFORM', storeId: 'local', uri: `local://${dataId}` },
        keyId: 'key-1',
        encrypted: true,
        ...extra,
      },
    ]);
  }
}

/** Assert that `p` rejects with a message starting with `code` and containing `text`. */
export async function rejects(p: Promise<unknown>, code: string, text?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.ok(err.message.startsWith(`${code}:`), `expected ${code}, got: ${err.message}`);
    if (typeof text === 'string') assert.ok(err.message.includes(text), `expected "${text}" in: ${err.message}`);
    else if (text) assert.match(err.message, text);
    return true;
  });
}
