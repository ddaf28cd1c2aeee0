/** R5 platforms and federation (platform contract). */
import type { Federation, Platform } from 'mvsec-protocol';
import type { ProposeFederationInput, RegisterPlatformInput, UpdatePlatformInput } from 'mvsec-protocol/inputs';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

export class PlatformsLedger {
  constructor(private readonly tx: Transactions) {}

  get(caller: Caller, platformId: string): Promise<Platform> {
    return this.tx.evaluate(caller, 'platform:GetPlatform', [platformId]);
  }
  register(caller: Caller, input: RegisterPlatformInput, o?: SubmitOptions): Promise<Committed<Platform>> {
    return this.tx.submit(caller, 'platform:RegisterPlatform', [json(input)], o);
  }
  update(caller: Caller, platformId: string, input: UpdatePlatformInput, o?: SubmitOptions): Promise<Committed<Platform>> {
    return this.tx.submit(caller, 'platform:UpdatePlatform', [platformId, json(input)], o);
  }
  suspend(caller: Caller, platformId: string, reason: string, o?: SubmitOptions): Promise<Committed<Platform>> {
    return this.tx.submit(caller, 'platform:SuspendPlatform', [platformId, reason], o);
  }
  resume(caller: Caller, platformId: string, o?: SubmitOptions): Promise<Committed<Platform>> {
    return this.tx.submit(caller, 'platform:ResumePlatform', [platformId], o);
  }
  getFederation(caller: Caller, platformId: string, peerPlatformId: string): Promise<Federation> {
    return this.tx.evaluate(caller, 'platform:GetFederation', [platformId, peerPlatformId]);
  }
  proposeFederation(caller: Caller, input: ProposeFederationInput, o?: SubmitOptions): Promise<Committed<Federation>> {
    return this.tx.submit(caller, 'platform:ProposeFederation', [input.platformId, input.peerPlatformId, input.terms], o);
  }
  acceptFederation(caller: Caller, platformId: string, peerPlatformId: string, o?: SubmitOptions): Promise<Committed<Federation>> {
    return this.tx.submit(caller, 'platform:AcceptFederation', [platformId, peerPlatformId], o);
  }
  revokeFederation(
    caller: Caller,
    platformId: string,
    peerPlatformId: string,
    reason: string,
    o?: SubmitOptions,
  ): Promise<Committed<Federation>> {
    return this.tx.submit(caller, 'platform:RevokeFederation', [platformId, peerPlatformId, reason], o);
  }
}
