/**
 * A @hyperledger/fabric-gateway connection for an enrolled identity, through one of its org's
 * peers. Used by the readiness probe, the integration tests and the benchmarks.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Gateway, type Identity, type Signer } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { endpoint, type Organization, type PeerNode } from '../../network/topology.js';
import { identityFiles, orgCaCert } from './ca.js';

export interface FabricConnection {
  gateway: Gateway;
  client: grpc.Client;
  identity: Identity;
  close(): void;
}

/** An identity's X.509 credentials as fabric-gateway wants them. */
export function credentials(org: Organization, name: string): { identity: Identity; signer: Signer } {
  const f = identityFiles(org.key, name);
  return {
    identity: { mspId: org.mspId, credentials: readFileSync(f.cert) },
    signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(f.key))),
  };
}

export function grpcClient(org: Organization, peer: PeerNode = org.peers[0]): grpc.Client {
  const tls = grpc.credentials.createSsl(readFileSync(orgCaCert(org.key)));
  // Certificates name hosts as DNS names; an IP address is not a valid TLS server name (RFC 6066).
  const options = /^[\d.]+$/.test(peer.host) ? { 'grpc.ssl_target_name_override': 'localhost' } : {};
  return new grpc.Client(endpoint(peer), tls, options);
}

/** Connect as `name` of `org` through `peer` (default: the org's first peer). */
export function connectAs(org: Organization, name: string, via: { org: Organization; peer?: PeerNode } = { org }): FabricConnection {
  const client = grpcClient(via.org, via.peer);
  const { identity, signer } = credentials(org, name);
  const gateway = connect({
    client,
    identity,
    signer,
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 10_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 30_000 }),
    submitOptions: () => ({ deadline: Date.now() + 10_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60_000 }),
  });
  return {
    gateway,
    client,
    identity,
    close() {
      gateway.close();
      client.close();
    },
  };
}
