/**
 * Live delivery (R1, X1): subscribers of an avatar admitted by the ledger (the avatar exists, the
 * caller may read it, the thing's policy lists its metaverse), then readings and anchorings as
 * they happen — paused while thing or avatar is suspended or outside the transmit window, ended
 * (4403) when the avatar is gone, the thing revoked or the subscriber's read right has ended.
 */
import type { Avatar, Thing } from 'mvsec-protocol';
import type { Caller } from '../../auth/principal.js';
import { deniedByLedger } from '../../http/ledger-errors.js';
import { isRefusal } from '../../ledger/errors.js';
import { ledgerError, type TelemetryReads } from './ledger-reads.js';
import { inactiveReason, inTransmitWindow, type StreamMessage, type Subscriber, type ThingMessage } from './types.js';

export class Streaming {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly fanoutChain = new Map<string, Promise<void>>();

  constructor(
    private readonly reads: TelemetryReads,
    private readonly now: () => number,
    private readonly log: (m: string) => void,
  ) {}

  /** Anyone following the thing. */
  following(thingId: string): boolean {
    return !!this.subscribers.get(thingId)?.size;
  }

  /**
   * Admit a subscriber of `avatarId`: the avatar exists, the caller may read it (CheckAccess on the
   * avatar: its controllers, agents or a read grant), and the thing's policy lists its metaverse.
   */
  async admit(caller: Caller, avatarId: string): Promise<Avatar> {
    let avatar: Avatar;
    try {
      avatar = await this.reads.ledger.avatars.get(caller, avatarId);
    } catch (e) {
      throw ledgerError(e);
    }
    const d = await this.reads.check(caller, 'AVATAR', avatarId, 'read');
    if (!d.allowed) throw deniedByLedger(d.reason);
    const thing = await this.reads.thing(caller, avatar.thingId, true);
    const why = this.streamRefusal(thing, avatar);
    if (why) throw deniedByLedger(why);
    return avatar;
  }

  /** A subscriber admitted just now (its avatar record and read right are as of this service's clock). */
  subscribe(admitted: Omit<Subscriber, 'checkedAt'>): () => void {
    const s: Subscriber = { ...admitted, checkedAt: this.now() };
    let set = this.subscribers.get(s.avatar.thingId);
    if (!set) this.subscribers.set(s.avatar.thingId, (set = new Set()));
    set.add(s);
    return () => {
      set.delete(s);
      if (!set.size && this.subscribers.get(s.avatar.thingId) === set) this.subscribers.delete(s.avatar.thingId);
    };
  }

  /** Why the avatar may receive nothing more (a final refusal), or undefined. */
  private streamRefusal(thing: Thing, avatar: Avatar): string | undefined {
    if (thing.status === 'REVOKED') return inactiveReason(thing);
    if (avatar.status !== 'ACTIVE' && avatar.status !== 'SUSPENDED') return `avatar ${avatar.avatarId} is ${avatar.status}`;
    if (!(thing.policy?.allowedMetaverses ?? []).includes(avatar.metaverseId))
      return `thing ${thing.thingId}'s policy does not allow metaverse ${avatar.metaverseId}`;
    return undefined;
  }

  /** Deliver to the thing's subscribers, in order per thing. */
  fanout(thingId: string, m: ThingMessage): void {
    if (!this.subscribers.get(thingId)?.size) return;
    const prev = this.fanoutChain.get(thingId) ?? Promise.resolve();
    const next = prev
      .then(() => this.deliver(thingId, m))
      .catch((e) => this.log(`telemetry: stream delivery for ${thingId} failed: ${(e as Error).message}`));
    this.fanoutChain.set(thingId, next);
    void next.finally(() => {
      if (this.fanoutChain.get(thingId) === next) this.fanoutChain.delete(thingId);
    });
  }

  private async deliver(thingId: string, m: ThingMessage): Promise<void> {
    const subs = [...(this.subscribers.get(thingId) ?? [])];
    if (!subs.length) return;
    const thing = await this.reads.thing(subs[0].caller, thingId);
    const now = this.now();
    for (const s of subs) {
      let revoked: string | undefined;
      if (now - s.checkedAt >= this.reads.ttl) {
        try {
          s.avatar = await this.reads.ledger.avatars.get(s.caller, s.avatar.avatarId);
          s.checkedAt = now;
          // The subscriber's own read right, as at admission (a revoked or expired grant ends the
          // stream); asked only while thing and avatar are ACTIVE, whose suspension pauses it instead.
          if (thing.status === 'ACTIVE' && s.avatar.status === 'ACTIVE') {
            const d = await this.reads.decide(s.caller, 'AVATAR', s.avatar.avatarId, 'read');
            if (!d.allowed) revoked = `read access to avatar ${s.avatar.avatarId} ended: ${d.reason}`;
          }
        } catch (e) {
          if (isRefusal(e, 'NOT_FOUND')) s.avatar = { ...s.avatar, status: 'UNMAPPED' };
        }
      }
      const final = revoked ?? this.streamRefusal(thing, s.avatar);
      if (final) {
        s.send({ type: 'closed', avatarId: s.avatar.avatarId, reason: final });
        s.close(4403, final.slice(0, 120));
        this.subscribers.get(thingId)?.delete(s);
        continue;
      }
      // Suspended thing or avatar, or outside the transmit window: nothing now, maybe later.
      if (thing.status !== 'ACTIVE' || s.avatar.status !== 'ACTIVE' || !inTransmitWindow(thing.policy?.transmitWindow, now)) continue;
      s.send({ ...m, avatarId: s.avatar.avatarId } as StreamMessage);
    }
  }

  close(): void {
    for (const set of this.subscribers.values()) for (const s of set) s.close(1001, 'gateway shutting down');
    this.subscribers.clear();
  }
}
