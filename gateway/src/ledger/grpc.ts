/** The gRPC channel to one peer, trusting the TLS root the configuration names for it. */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { GatewayPeer } from '../config/schema.js';

export function peerClient(peer: GatewayPeer): grpc.Client {
  const tls = grpc.credentials.createSsl(readFileSync(peer.tlsRootCert));
  // A certificate names its host by DNS name; a peer reached by IP address needs the name to expect.
  const options = peer.hostOverride ? { 'grpc.ssl_target_name_override': peer.hostOverride } : {};
  return new grpc.Client(peer.endpoint, tls, options);
}
