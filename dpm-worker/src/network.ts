/**
 * Defaults taken from the local network (the topology `npm start` runs, MVSEC_DATA_DIR) when the
 * worker's configuration leaves them out: the organisation's CA to enroll at, the fabric-ca-client
 * binary, and every organisation's CA certificate as trust anchors. Loaded only then: a worker
 * configured completely never reads the repository's network scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TrustAnchors } from 'mvsec-protocol/dpm';
import { loadTopology } from '../../network/topology.js';
import { bin } from '../../scripts/fabric/install.js';
import { orgCaCert } from '../../scripts/network/ca.js';

/** The CA certificate of every organisation of the topology whose MSP folder exists. */
export function networkTrust(): TrustAnchors {
  const m = new Map<string, string>();
  for (const org of loadTopology().orgs) {
    const f = orgCaCert(org.key);
    if (existsSync(f)) m.set(org.mspId, readFileSync(f, 'utf8'));
  }
  return m;
}

/** Where `mspId`'s members enroll: its CA's URL, name and TLS certificate. */
export function networkCa(mspId: string): { url: string; name: string; tlsCertFile: string } {
  const org = loadTopology().orgs.find((o) => o.mspId === mspId);
  if (!org) throw new Error(`no organisation ${mspId} in the network topology`);
  return { url: `https://${org.ca.host}:${org.ca.port}`, name: org.ca.name, tlsCertFile: orgCaCert(org.key) };
}

/** The fabric-ca-client binary `npm run fabric:install` installed. */
export const networkFabricCaClient = (): string => bin('fabric-ca-client');
