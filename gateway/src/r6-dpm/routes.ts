/**
 * R6 external DPM (X4, F3, C1–C3; docs/dpm.md). The requester's side (requester-routes.ts):
 *
 *  POST /r6/jobs                          submit: the ledger decides first (SubmitJob simulated as the caller),
 *                                         inputs read from the storage agent verified against the ledger's
 *                                         fingerprints, sealed to the provider's certificate key and signed
 *                                         by the caller's Fabric identity, SubmitJob with the envelope's
 *                                         SHA-256, envelope kept for pickup
 *  GET  /r6/jobs/:jobId                   the ledger's job (GetJob)
 *  GET  /r6/jobs/:jobId/result            the result envelope and the receipt
 *  GET  /r6/jobs/:jobId/output            the result opened for the identity that submitted the job
 *
 * The provider's side (provider-routes.ts; a `dpm` principal whose principal is the provider id):
 *
 *  PUT  /r6/providers/:providerId/key     register the worker's own enrollment certificate (proof of possession)
 *  GET  /r6/providers/:providerId/key     the registered certificate (public)
 *  GET  /r6/providers/:providerId/jobs    its jobs (ListJobsByProvider)
 *  GET  /r6/jobs/:jobId/envelope          the input envelope: only the job's provider identity (the contract's rule)
 *  POST /r6/jobs/:jobId/accept            AcceptJob
 *  POST /r6/jobs/:jobId/result            result envelope + receipt: RecordReceipt as the provider
 *  POST /r6/jobs/:jobId/fail              FailJob
 *
 * Every ledger call is made as the caller's own Fabric identity. The provider's decrypting key is
 * never here: inputs are encrypted to a certificate the worker registered and proved it holds the key of.
 */
import type { AnyRoute } from '../http/routes.js';
import type { LedgerClient } from '../ledger/client.js';
import type { ObjectStore } from '../r2-storage/store.js';
import { providerRoutes } from './provider-routes.js';
import { requesterRoutes } from './requester-routes.js';
import { DpmService, type DpmRouteOptions } from './service.js';

export type { DpmRouteOptions } from './service.js';

export function dpmRoutes(ledger: LedgerClient, storage: ObjectStore | undefined, o: DpmRouteOptions): AnyRoute[] {
  const svc = new DpmService(ledger, storage, o);
  const provider = providerRoutes(svc);
  // The provider's key routes first, as they always were in the document.
  return [...provider.slice(0, 2), ...requesterRoutes(svc), ...provider.slice(2)];
}
