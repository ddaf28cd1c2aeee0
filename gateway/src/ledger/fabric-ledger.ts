/**
 * The Ledger on a real Fabric network through @hyperledger/fabric-gateway: one gRPC channel per
 * peer shared by all principals, one Gateway per (principal, peer), each signing with the
 * principal's own key. Submissions wait for the commit status, are retried with backoff on MVCC
 * read conflicts and on endorsers that disagree because they are a block apart (a fresh proposal
 * each time), resend the same signed transaction while the orderers are unavailable, and fail
 * over across the peers of the caller's org before endorsement. Failures are typed (ledger/errors.ts):
 * the chaincode's refusal, Fabric unavailable (no peer answers), invalidated at commit, or another
 * Fabric failure.
 */
import type * as grpc from '@grpc/grpc-js';
import { connect, GatewayError, StatusCode, type Gateway } from '@hyperledger/fabric-gateway';
import { peerOrganizations, type FabricNetwork, type GatewayOrganization, type GatewayPeer } from '../config/schema.js';
import { peerClient } from './grpc.js';
import { callerKey, type Caller } from '../auth/principal.js';
import {
  LedgerCommitInvalidated,
  LedgerError,
  LedgerFailure,
  LedgerRefusal,
  LedgerUnavailable,
  refusalIn,
  UnknownOrganisation,
} from './errors.js';
import type { IdentityService } from './identities.js';
import {
  parseResult,
  type Ledger,
  type LedgerEvents,
  type Readiness,
  type SubmitOptions,
  type Submitted,
  type TransactionStatus,
} from './ledger.js';

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const RETRYABLE_COMMIT = new Set<number>([StatusCode.MVCC_READ_CONFLICT, StatusCode.PHANTOM_READ_CONFLICT]);
/** Fresh proposals after an endorser answered NOT_FOUND (backoff 100, 200, 400 ms with jitter: under a second). */
const LAGGING_ENDORSER_RETRIES = 3;

interface PeerRef {
  org: GatewayOrganization;
  peer: GatewayPeer;
  id: string;
}

export interface FabricLedgerOptions {
  mvccRetries?: number;
  /** Backoff base for MVCC retries, in ms (doubles each time, with jitter). */
  backoffMs?: number;
  maxGateways?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ABORTED = 10;
/** The endorsing peers answered with different results (they had not all committed the same blocks). */
const isDivergentEndorsement = (e: unknown) =>
  e instanceof GatewayError && e.code === ABORTED && e.details.some((d) => /ProposalResponsePayloads do not match/.test(d.message));
const isUnavailable = (e: unknown) => e instanceof GatewayError && (e.code === UNAVAILABLE || e.code === DEADLINE_EXCEEDED);

/** The message a Fabric error carries, with every peer's detail (where the chaincode's reason is). */
export function fabricMessage(e: unknown): string {
  if (e instanceof GatewayError) return [e.message, ...e.details.map((d) => `${d.mspId}: ${d.message}`)].join(' | ');
  return String((e as Error)?.message ?? e);
}

/** Fabric's name of a transaction validation code. */
export const statusName = (code: number) => Object.entries(StatusCode).find(([, v]) => v === code)?.[0] ?? String(code);

/**
 * An error the operation's own code threw with its own problem (offline signing's certificate and
 * signature checks run inside `onPeers`): not a Fabric failure, so it passes on unchanged.
 */
const carriesProblem = (e: unknown): e is Error => typeof (e as { toProblem?: unknown })?.toProblem === 'function';

/** A Fabric failure, typed: the chaincode's coded reason, unavailable when unreachable, else a failure. */
export function toLedgerError(e: unknown, what: string): Error {
  if (e instanceof LedgerError || carriesProblem(e)) return e;
  const text = fabricMessage(e);
  const txId = (e as { transactionId?: unknown })?.transactionId;
  const refusal = refusalIn(text, typeof txId === 'string' ? txId : undefined, e);
  if (refusal) return refusal;
  if (isUnavailable(e)) return new LedgerUnavailable(`${what}: Fabric unavailable (${text.slice(0, 300)})`, undefined, { cause: e });
  return new LedgerFailure(`${what}: Fabric error (${text.slice(0, 300)})`, undefined, { cause: e });
}

/**
 * The validation code of a peer.ProcessedTransaction (field 2, varint), read without the protobuf
 * runtime: field 1 is the envelope (length-delimited), field 2 the code. Absent means 0 (VALID).
 */
export function validationCode(bytes: Uint8Array): number {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= bytes.length) throw new Error('truncated ProcessedTransaction');
      const b = bytes[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  let code = 0;
  while (i < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 2) code = v;
    } else if (wire === 2) {
      const length = varint(); // read first: `i += varint()` would add to the old i
      i += length;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error(`unexpected wire type ${wire} in ProcessedTransaction`);
    if (i > bytes.length) throw new Error('truncated ProcessedTransaction');
  }
  return code;
}

export class FabricLedger implements Ledger {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly gateways = new Map<string, Gateway>();
  /** frees each gateway's signer (a PKCS#11 session) when it is evicted or closed */
  private readonly signerClosers = new Map<string, () => void>();
  private readonly mvccRetries: number;
  private readonly backoffMs: number;
  private readonly maxGateways: number;
  /** Peer that last answered, per caller (failover moves it). */
  private readonly preferred = new Map<string, number>();

  constructor(
    readonly network: FabricNetwork,
    readonly identities: IdentityService,
    options: FabricLedgerOptions = {},
  ) {
    this.mvccRetries = options.mvccRetries ?? 6;
    this.backoffMs = options.backoffMs ?? 100;
    this.maxGateways = options.maxGateways ?? 500;
  }

  /** Peers a caller may use: its own org's, or (an org without peers, e.g. a DPM provider) every peer org's. */
  peersFor(mspId: string): PeerRef[] {
    const own = this.network.organizations.find((o) => o.mspId === mspId);
    const orgs = own && own.peers.length ? [own] : peerOrganizations(this.network);
    return orgs.flatMap((org) => org.peers.map((peer) => ({ org, peer, id: `${org.mspId}/${peer.endpoint}` })));
  }

  private client(ref: PeerRef): grpc.Client {
    let c = this.clients.get(ref.id);
    if (!c) {
      c = peerClient(ref.peer);
      this.clients.set(ref.id, c);
    }
    return c;
  }

  private async gateway(caller: Caller, ref: PeerRef): Promise<Gateway> {
    const k = `${callerKey(caller)}\u0000${ref.id}`;
    const hit = this.gateways.get(k);
    if (hit) {
      this.gateways.delete(k);
      this.gateways.set(k, hit);
      return hit;
    }
    const id = await this.identities.identityOf(caller);
    const { signer, hash, close } = this.identities.signerOf(id);
    const gw = connect({
      client: this.client(ref),
      identity: { mspId: id.mspId, credentials: id.certificate },
      signer,
      hash,
      evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
      endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
      submitOptions: () => ({ deadline: Date.now() + 10_000 }),
      commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
    });
    this.gateways.set(k, gw);
    this.signerClosers.set(k, close);
    while (this.gateways.size > this.maxGateways) {
      const [oldest, g] = this.gateways.entries().next().value!;
      this.gateways.delete(oldest);
      g.close();
      this.signerClosers.get(oldest)?.();
      this.signerClosers.delete(oldest);
    }
    return gw;
  }

  /** Run `op` through the caller's peers, moving to the next while one is unreachable. */
  private failover<T>(caller: Caller, what: string, op: (gw: Gateway) => Promise<T>): Promise<T> {
    return this.rotate(caller.mspId, callerKey(caller), what, async (ref) => op(await this.gateway(caller, ref)));
  }

  /** Run `op` with a gRPC client of the org's peers, moving to the next while one is unreachable (offline signing). */
  onPeers<T>(mspId: string, what: string, op: (client: grpc.Client) => Promise<T>): Promise<T> {
    return this.rotate(mspId, `offline\u0000${mspId}`, what, (ref) => op(this.client(ref)));
  }

  private async rotate<T>(mspId: string, key: string, what: string, op: (ref: PeerRef) => Promise<T>): Promise<T> {
    const peers = this.peersFor(mspId);
    if (peers.length === 0) throw new LedgerUnavailable(`${what}: no peer is configured for ${mspId}`);
    const start = this.preferred.get(key) ?? 0;
    const tried: string[] = [];
    for (let i = 0; i < peers.length; i++) {
      const idx = (start + i) % peers.length;
      try {
        const out = await op(peers[idx]);
        this.preferred.set(key, idx);
        return out;
      } catch (e) {
        if (!isUnavailable(e)) throw toLedgerError(e, what);
        tried.push(`${peers[idx].id}: ${(e as GatewayError).message.split('\n')[0]}`);
      }
    }
    throw new LedgerUnavailable(`${what}: no peer is reachable (${tried.join('; ')})`);
  }

  /** The contract and function name of `contract:Function` on this gateway. */
  contractOf(gw: Gateway, fn: string) {
    const i = fn.indexOf(':');
    const network = gw.getNetwork(this.network.channel);
    return { contract: network.getContract(this.network.chaincode, i < 0 ? '' : fn.slice(0, i)), name: i < 0 ? fn : fn.slice(i + 1) };
  }

  async evaluate(caller: Caller, fn: string, args: string[]): Promise<unknown> {
    const bytes = await this.failover(caller, fn, (gw) => {
      const { contract, name } = this.contractOf(gw, fn);
      return contract.evaluateTransaction(name, ...args);
    });
    return parseResult(Buffer.from(bytes).toString('utf8'));
  }

  async submit(caller: Caller, fn: string, args: string[], options: SubmitOptions = {}): Promise<Submitted> {
    const transientData = options.transient
      ? Object.fromEntries(Object.entries(options.transient).map(([k, v]) => [k, Buffer.from(v)]))
      : undefined;
    for (let attempt = 0; ; attempt++) {
      const tx = await this.failover(caller, fn, async (gw) => {
        const { contract, name } = this.contractOf(gw, fn);
        try {
          return await contract
            .newProposal(name, {
              arguments: args,
              ...(transientData ? { transientData } : {}),
              ...(options.endorsingOrganizations ? { endorsingOrganizations: options.endorsingOrganizations } : {}),
            })
            .endorse();
        } catch (e) {
          // Endorsers that have not all committed the latest block yet read different versions
          // under contention: a fresh proposal a little later agrees (like an MVCC conflict).
          if (isDivergentEndorsement(e) && attempt < this.mvccRetries) return undefined;
          // A record another organisation's peer committed a moment ago may not have reached this
          // transaction's endorsers yet (each peer commits blocks on its own): NOT_FOUND is asked
          // again a few times, shortly, before it is taken as the answer.
          if (attempt < LAGGING_ENDORSER_RETRIES && refusalIn(fabricMessage(e))?.code === 'NOT_FOUND') return undefined;
          throw e;
        }
      });
      if (!tx) {
        await sleep(this.backoffMs * 2 ** attempt * (1 + Math.random()));
        continue;
      }
      const txId = tx.getTransactionId();
      const result = parseResult(Buffer.from(tx.getResult()).toString('utf8'));
      options.onEndorsed?.(txId, result);
      // Hand the same signed transaction to the orderers until accepted: the same tx id cannot commit twice.
      let status;
      for (let wait = 200, deadline = Date.now() + 30_000; ; wait = Math.min(wait * 2, 2000)) {
        try {
          status = await (await tx.submit()).getStatus();
          break;
        } catch (e) {
          if (!isUnavailable(e) || Date.now() > deadline) {
            const typed = toLedgerError(e, `${fn} (tx ${txId})`);
            throw typed instanceof LedgerRefusal && !typed.txId ? new LedgerRefusal(typed.code, typed.reason, txId, { cause: e }) : typed;
          }
          await sleep(wait);
        }
      }
      if (status.successful) return { txId, result };
      if (RETRYABLE_COMMIT.has(status.code) && attempt < this.mvccRetries) {
        await sleep(this.backoffMs * 2 ** attempt * (1 + Math.random()));
        continue;
      }
      const why = statusName(status.code);
      throw new LedgerCommitInvalidated(
        `${fn}: transaction ${txId} was invalidated at commit (${why})${RETRYABLE_COMMIT.has(status.code) ? ` after ${attempt + 1} attempts` : ''}`,
        txId,
        why,
      );
    }
  }

  async transactionStatus(caller: Caller, txId: string): Promise<TransactionStatus> {
    let bytes: Uint8Array;
    try {
      bytes = await this.failover(caller, 'qscc:GetTransactionByID', (gw) =>
        gw.getNetwork(this.network.channel).getContract('qscc').evaluateTransaction('GetTransactionByID', this.network.channel, txId),
      );
    } catch (e) {
      if (e instanceof LedgerRefusal || e instanceof UnknownOrganisation) return 'UNKNOWN';
      if (/not found|no such transaction/i.test(fabricMessage(e) + String((e as Error)?.message ?? ''))) return 'UNKNOWN';
      throw e;
    }
    return validationCode(bytes) === 0 ? 'VALID' : 'INVALID';
  }

  async events(caller: Caller, startBlock?: bigint): Promise<LedgerEvents> {
    const stream = await this.failover(caller, 'chaincode events', (gw) =>
      gw.getNetwork(this.network.channel).getChaincodeEvents(this.network.chaincode, startBlock !== undefined ? { startBlock } : {}),
    );
    return {
      close: () => stream.close(),
      async *[Symbol.asyncIterator]() {
        for await (const e of stream) yield { blockNumber: e.blockNumber, txId: e.transactionId, name: e.eventName, payload: e.payload };
      },
    };
  }

  withGateway<T>(caller: Caller, what: string, op: (gw: Gateway, where: { channel: string; chaincode: string }) => Promise<T>): Promise<T> {
    return this.failover(caller, what, (gw) => op(gw, { channel: this.network.channel, chaincode: this.network.chaincode }));
  }

  async ready(): Promise<Readiness> {
    const lines: string[] = [];
    let ok = true;
    for (const org of peerOrganizations(this.network)) {
      const states = await Promise.all(
        org.peers.map(async (peer) => {
          const ref = { org, peer, id: `${org.mspId}/${peer.endpoint}` };
          try {
            await new Promise<void>((resolve, reject) =>
              this.client(ref).waitForReady(Date.now() + 2000, (e) => (e ? reject(e) : resolve())),
            );
            return `${ref.id} up`;
          } catch (e) {
            return `${ref.id} unreachable (${(e as Error).message})`;
          }
        }),
      );
      if (!states.some((s) => s.endsWith(' up'))) ok = false;
      lines.push(...states);
    }
    return { ready: ok, detail: lines.join('; ') };
  }

  close(): void {
    for (const g of this.gateways.values()) g.close();
    this.gateways.clear();
    for (const close of this.signerClosers.values()) close();
    this.signerClosers.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
