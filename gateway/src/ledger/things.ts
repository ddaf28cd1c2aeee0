/** R1 things (thing contract). */
import type { Thing } from 'mvsec-protocol';
import type { DataFlowPolicyInput, RegisterThingInput } from 'mvsec-protocol/inputs';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

export class ThingsLedger {
  constructor(private readonly tx: Transactions) {}

  get(caller: Caller, thingId: string): Promise<Thing> {
    return this.tx.evaluate(caller, 'thing:GetThing', [thingId]);
  }
  register(caller: Caller, input: RegisterThingInput, o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:RegisterThing', [json(input)], o);
  }
  setPolicy(caller: Caller, thingId: string, policy: DataFlowPolicyInput, o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:SetThingPolicy', [thingId, json(policy)], o);
  }
  setAgents(caller: Caller, thingId: string, agents: string[], o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:SetThingAgents', [thingId, json(agents)], o);
  }
  suspend(caller: Caller, thingId: string, reason: string, o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:SuspendThing', [thingId, reason], o);
  }
  resume(caller: Caller, thingId: string, o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:ResumeThing', [thingId], o);
  }
  revoke(caller: Caller, thingId: string, reason: string, o?: SubmitOptions): Promise<Committed<Thing>> {
    return this.tx.submit(caller, 'thing:RevokeThing', [thingId, reason], o);
  }
}
