import { Info, Param, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { actorOf, callerOf } from '../auth/identity';
import { conflict, invalid } from '../common/errors';
import { guardKeys } from '../common/endorsement';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { keyExists } from '../common/state';
import { txTime } from '../common/time';
import { assertId, assertText, parseInput } from '../common/validation';
import { inputs } from 'mvsec-protocol';
import { loadActivePlatform } from '../platform/platform-store';
import { indexThingOwner, loadThing, ownsAThing, policyOf, saveThing } from './thing-store';
import { Thing, ThingStatus } from './thing-types';

/** Things: identity, access mode (F4), owner, agents, status and data-flow policy (X5). */
@Info({ title: 'ThingContract', description: 'Things, their agents, status and data-flow policy (F4, X5, A2)' })
export class ThingContract extends LedgerContract {
  constructor() {
    super('thing');
  }

  @Transaction()
  @Param(
    'input',
    'string',
    'JSON {thingId, platformId (IoT platform of the caller MSP), name?, kind: SENSOR|DEVICE|SYSTEM|GATEWAY, accessMode: AUTONOMOUS|GATEWAY, gatewayId? (registered GATEWAY thing), publicKey, owner? (principal; default caller), classification: PUBLIC|INTERNAL|CONFIDENTIAL|RESTRICTED, agents?: [principal], policy?: DataFlowPolicy}',
  )
  @Returns('Thing')
  public async RegisterThing(ctx: LedgerContext, input: string): Promise<Thing> {
    const caller = callerOf(ctx);
    const body = parseInput(inputs.RegisterThing, 'input', input);
    const { thingId, platformId, accessMode, gatewayId } = body;
    const owner = body.owner ?? caller.principal;
    if (!owner) throw invalid('owner is required when the caller certificate has no principal attribute');
    if (accessMode === 'GATEWAY' && !gatewayId) throw invalid('gatewayId is required for accessMode GATEWAY');
    if (accessMode === 'AUTONOMOUS' && gatewayId) throw invalid('gatewayId is only for accessMode GATEWAY');
    const policy = policyOf(body.policy);
    const agents = [...(body.agents ?? [])];
    if (caller.role === 'thing-agent' && caller.principal && !agents.includes(caller.principal)) agents.push(caller.principal);

    const platform = await loadActivePlatform(ctx, platformId, 'IOT');
    // Rule 6: the owner is a principal of the registering (= the IoT platform's) MSP; a thing
    // agent may only name an owner the ledger already knows there (see thing-policy).
    const ownerKnown = caller.role === 'thing-agent' && owner !== caller.principal ? await ownsAThing(ctx, platform.mspId, owner) : true;
    enforce(authorize(caller, 'thing.register', { platform, owner, ownerKnown }));
    if (await keyExists(ctx, keys.thing(ctx.stub, thingId))) throw conflict(`thing ${thingId} already exists`);
    if (gatewayId) {
      const gateway = await loadThing(ctx, gatewayId);
      if (gateway.kind !== 'GATEWAY') throw conflict(`thing ${gatewayId} is a ${gateway.kind}, not a GATEWAY`);
      if (gateway.status !== 'ACTIVE') throw conflict(`gateway ${gatewayId} is ${gateway.status}`);
      if (gateway.mspId !== platform.mspId) throw conflict(`gateway ${gatewayId} belongs to ${gateway.mspId}`);
    }
    const now = txTime(ctx);
    const thing: Thing = {
      docType: 'thing',
      thingId,
      name: body.name ?? '',
      kind: body.kind,
      platformId,
      mspId: platform.mspId,
      accessMode,
      gatewayId,
      publicKey: body.publicKey,
      owner,
      classification: body.classification,
      agents,
      status: 'ACTIVE',
      policy,
      registeredBy: actorOf(caller),
      createdAt: now,
      updatedAt: now,
    };
    await saveThing(ctx, thing);
    await indexThingOwner(ctx, thing);
    // Rule 9: the thing belongs to its IoT platform's organisation, whose peer must endorse changes.
    await guardKeys(ctx, [keys.thing(ctx.stub, thingId), keys.thingByOwner(ctx.stub, thing.mspId, owner, thingId)], [thing.mspId]);
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: 'registered', details: { owner, accessMode, platformId } });
    return thing;
  }

  @Transaction()
  @Param(
    'policy',
    'string',
    'JSON DataFlowPolicy {storage: ON_PLATFORM|EXTERNAL|ANY, storageIds, allowedMetaverses, allowedDpmProviders, purposes, retentionDays, encryptionRequired, transmitWindow?: {fromHour, toHour}}',
  )
  @Returns('Thing')
  public async SetThingPolicy(ctx: LedgerContext, thingId: string, policy: string): Promise<Thing> {
    const caller = callerOf(ctx);
    const thing = await loadThing(ctx, assertId('thingId', thingId));
    enforce(authorize(caller, 'thing.manage', { thing }));
    if (thing.status === 'REVOKED') throw conflict(`thing ${thingId} is REVOKED`);
    const updated: Thing = { ...thing, policy: policyOf(parseInput(inputs.DataFlowPolicy, 'policy', policy)), updatedAt: txTime(ctx) };
    await saveThing(ctx, updated);
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: 'policy-set', details: { policy: updated.policy } });
    return updated;
  }

  @Transaction()
  @Param('agents', 'string', 'JSON array of principal ids of the thing agents')
  @Returns('Thing')
  public async SetThingAgents(ctx: LedgerContext, thingId: string, agents: string): Promise<Thing> {
    const caller = callerOf(ctx);
    const thing = await loadThing(ctx, assertId('thingId', thingId));
    enforce(authorize(caller, 'thing.manage', { thing }));
    if (thing.status === 'REVOKED') throw conflict(`thing ${thingId} is REVOKED`);
    const updated: Thing = { ...thing, agents: parseInput(inputs.Agents.shape.agents, 'agents', agents), updatedAt: txTime(ctx) };
    await saveThing(ctx, updated);
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: 'agents-set', details: { agents: updated.agents } });
    return updated;
  }

  @Transaction()
  @Returns('Thing')
  public async SuspendThing(ctx: LedgerContext, thingId: string, reason: string): Promise<Thing> {
    return this.changeStatus(ctx, thingId, 'SUSPENDED', assertText('reason', reason), 'thing.suspend', ['ACTIVE']);
  }

  @Transaction()
  @Returns('Thing')
  public async ResumeThing(ctx: LedgerContext, thingId: string): Promise<Thing> {
    return this.changeStatus(ctx, thingId, 'ACTIVE', undefined, 'thing.resume', ['SUSPENDED']);
  }

  /** Permanent: a revoked thing can never act or be acted on again. */
  @Transaction()
  @Returns('Thing')
  public async RevokeThing(ctx: LedgerContext, thingId: string, reason: string): Promise<Thing> {
    return this.changeStatus(ctx, thingId, 'REVOKED', assertText('reason', reason), 'thing.revoke', ['ACTIVE', 'SUSPENDED']);
  }

  @Transaction(false)
  @Returns('Thing')
  public async GetThing(ctx: LedgerContext, thingId: string): Promise<Thing> {
    enforce(authorize(callerOf(ctx), 'registry.read'));
    return loadThing(ctx, assertId('thingId', thingId));
  }

  private async changeStatus(
    ctx: LedgerContext,
    thingId: string,
    status: ThingStatus,
    reason: string | undefined,
    action: 'thing.suspend' | 'thing.resume' | 'thing.revoke',
    from: ThingStatus[],
  ): Promise<Thing> {
    const caller = callerOf(ctx);
    const thing = await loadThing(ctx, assertId('thingId', thingId));
    enforce(authorize(caller, action, { thing }));
    if (!from.includes(thing.status)) throw conflict(`thing ${thingId} is ${thing.status}; expected ${from.join(' or ')}`);
    const updated: Thing = { ...thing, status, statusReason: reason, suspendedByAlert: undefined, updatedAt: txTime(ctx) };
    await saveThing(ctx, updated);
    ctx.journal.record({ subjectType: 'thing', subjectId: thingId, action: status.toLowerCase(), details: reason ? { reason } : {} });
    return updated;
  }
}
