/**
 * An avatar agent's feed: the agent follows the live data of the avatars it serves as its own
 * identity — admitted by the ledger like any stream subscriber (it must be allowed to read the
 * avatar, i.e. listed among the avatar's agents, and the thing's policy must allow the metaverse)
 * — and keeps the latest readings for its metaverse to collect, so the platform needs no open
 * socket. What it keeps is bounded; a final refusal (policy revoked, avatar gone) is kept too.
 */
import type { StreamMessage, TelemetryService } from '../telemetry/service.js';
import { agentCaller, type AgentRecord } from './agents.js';

const KEEP = 1000;

interface Feed {
  since: string;
  readings: unknown[];
  anchored: number;
  closed?: string;
  unsubscribe(): void;
}

export class AvatarFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly telemetry: TelemetryService,
    private readonly now: () => number,
  ) {}

  /** The feed of `avatarId` for the agent, following it from now on if it is not yet (the ledger admits or refuses). */
  async follow(agent: AgentRecord, avatarId: string): Promise<Feed> {
    const key = `${agent.agentId}\u0000${avatarId}`;
    const existing = this.feeds.get(key);
    if (existing && !existing.closed) return existing;
    const caller = agentCaller(agent);
    const avatar = await this.telemetry.admit(caller, avatarId);
    const feed: Feed = { since: new Date(this.now()).toISOString(), readings: [], anchored: 0, unsubscribe: () => {} };
    feed.unsubscribe = this.telemetry.subscribe({
      caller,
      avatar,
      send: (m: StreamMessage) => {
        if (m.type === 'readings') {
          feed.readings.push(...m.readings);
          if (feed.readings.length > KEEP) feed.readings.splice(0, feed.readings.length - KEEP);
        } else if (m.type === 'anchored') feed.anchored++;
        else if (m.type === 'closed') feed.closed = m.reason;
      },
      close: (_code, reason) => {
        feed.closed ??= reason;
      },
    });
    this.feeds.set(key, feed);
    return feed;
  }

  close(): void {
    for (const f of this.feeds.values()) f.unsubscribe();
    this.feeds.clear();
  }
}
