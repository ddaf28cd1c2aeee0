/** R1 avatars (avatar contract): things mapped into metaverses. */
import type { Avatar } from 'mvsec-protocol';
import type { MapAvatarInput } from 'mvsec-protocol/inputs';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

export class AvatarsLedger {
  constructor(private readonly tx: Transactions) {}

  get(caller: Caller, avatarId: string): Promise<Avatar> {
    return this.tx.evaluate(caller, 'avatar:GetAvatar', [avatarId]);
  }
  /** The thing's avatars, in one metaverse or ('') all. */
  ofThing(caller: Caller, thingId: string, metaverseId = ''): Promise<Avatar[]> {
    return this.tx.evaluate(caller, 'avatar:ListAvatarsOfThing', [thingId, metaverseId]);
  }
  map(caller: Caller, input: MapAvatarInput, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:MapAvatar', [json(input)], o);
  }
  /** Trust rule 8: the thing's owner (or a listed thing agent) agrees to a PENDING mapping. */
  approve(caller: Caller, avatarId: string, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:ApproveMapping', [avatarId], o);
  }
  reject(caller: Caller, avatarId: string, reason: string, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:RejectMapping', [avatarId, reason], o);
  }
  setAgents(caller: Caller, avatarId: string, agents: string[], o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:SetAvatarAgents', [avatarId, json(agents)], o);
  }
  unmap(caller: Caller, avatarId: string, reason: string, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:UnmapAvatar', [avatarId, reason], o);
  }
  suspend(caller: Caller, avatarId: string, reason: string, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:SuspendAvatar', [avatarId, reason], o);
  }
  resume(caller: Caller, avatarId: string, o?: SubmitOptions): Promise<Committed<Avatar>> {
    return this.tx.submit(caller, 'avatar:ResumeAvatar', [avatarId], o);
  }
}
