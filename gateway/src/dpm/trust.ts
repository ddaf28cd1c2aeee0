/**
 * Trust anchors for DPM envelopes: each organisation's Fabric CA certificate (the root of its
 * channel MSP), read from the network's crypto folder (MVSEC_DATA_DIR). Public material only.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Topology } from '../../../network/topology.js';
import { orgCaCert } from '../../../scripts/network/ca.js';
import type { TrustAnchors } from 'mvsec-protocol/dpm';

/** The CA certificate of every organisation of the topology whose MSP folder exists. */
export function networkTrust(topology: Topology): TrustAnchors {
  const m = new Map<string, string>();
  for (const org of topology.orgs) {
    const f = orgCaCert(org.key);
    if (existsSync(f)) m.set(org.mspId, readFileSync(f, 'utf8'));
  }
  return m;
}

/** `MSPID=/path/ca.pem,MSPID=/path/ca.pem` (e.g. MVSEC_DPM_TRUSTED_CAS) → trust anchors. */
export function trustFromList(list: string): TrustAnchors {
  const m = new Map<string, string>();
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`trusted CA entry "${item}" is not MSPID=/path/to/ca.pem`);
    m.set(item.slice(0, i), readFileSync(item.slice(i + 1), 'utf8'));
  }
  return m;
}
