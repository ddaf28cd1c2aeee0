/**
 * The monitor's event source on the real network: a fabric-gateway connection signed by the
 * monitor's own identity (role `monitor`, enrolled at its org's CA through the IdentityService),
 * through a peer of its org; chaincode events resume from the checkpointer's position.
 */
import type * as grpc from '@grpc/grpc-js';
import { connect, type Checkpointer, type Gateway } from '@hyperledger/fabric-gateway';
import type { FabricNetwork } from '../config/schema.js';
import { peerClient } from '../ledger/grpc.js';
import type { Caller } from '../auth/principal.js';
import type { IdentityService } from '../ledger/identities.js';
import type { EventSource } from './monitor.js';

export async function fabricEventSource(
  fabric: Pick<FabricNetwork, 'channel' | 'chaincode'>,
  identities: IdentityService,
  identity: Caller,
  peerIndex = 0,
): Promise<EventSource> {
  const org = identities.orgOf(identity.mspId);
  if (!org.peers.length) throw new Error(`the monitor's organisation ${org.mspId} has no peer to follow events on`);
  const id = await identities.identityOf(identity);
  const signing = identities.signerOf(id);
  const client: grpc.Client = peerClient(org.peers[peerIndex % org.peers.length]);
  const gateway: Gateway = connect({
    client,
    identity: { mspId: id.mspId, credentials: id.certificate },
    signer: signing.signer,
    hash: signing.hash,
    evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
  });
  const network = gateway.getNetwork(fabric.channel);
  return {
    events: (checkpoint: Checkpointer, startBlock?: bigint) =>
      network.getChaincodeEvents(fabric.chaincode, { checkpoint, ...(startBlock !== undefined ? { startBlock } : {}) }),
    async height() {
      const qscc = network.getContract('qscc');
      return chainHeight(await qscc.evaluateTransaction('GetChainInfo', fabric.channel));
    },
    close() {
      gateway.close();
      signing.close();
      client.close();
    },
  };
}

/** `height` (field 1, uint64 varint) of a serialized common.BlockchainInfo. */
export function chainHeight(bytes: Uint8Array): bigint {
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = varint(bytes, i);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, next] = varint(bytes, afterKey);
      if (field === 1) return v;
      i = next;
    } else if (wire === 2) {
      const [len, next] = varint(bytes, afterKey);
      i = next + Number(len);
    } else throw new Error(`unexpected wire type ${wire} in BlockchainInfo`);
  }
  return 0n;
}

function varint(b: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  for (let shift = 0n, i = at; i < b.length; i++, shift += 7n) {
    v |= BigInt(b[i] & 0x7f) << shift;
    if ((b[i] & 0x80) === 0) return [v, i + 1];
  }
  throw new Error('truncated varint');
}
