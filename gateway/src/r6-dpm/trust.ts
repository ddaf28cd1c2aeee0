/**
 * Trust anchors for DPM envelopes: each organisation's Fabric CA certificate (the root of its
 * channel MSP), the files the gateway configuration names (served organisations' `caCert` and
 * `trustedCas`). Public material only.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { FabricNetwork } from '../config/schema.js';
import type { TrustAnchors } from 'mvsec-protocol/dpm';

/** The CA certificate of every organisation the configuration names, whose file exists. */
export function networkTrust(network: Pick<FabricNetwork, 'organizations' | 'trustedCas'>): TrustAnchors {
  const m = new Map<string, string>();
  for (const { mspId, caCert } of [...network.organizations, ...network.trustedCas]) {
    if (existsSync(caCert)) m.set(mspId, readFileSync(caCert, 'utf8'));
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
