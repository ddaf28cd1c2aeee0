/**
 * POST /r3/transfers/:transferId/delivery: execute a consented transfer and receive its data from
 * the storage agent (R2) — the transfer guard first, the object verified against the bound
 * fingerprint, ExecuteTransfer committed, and only then the bytes sent.
 */
import { STREAM_TYPE } from '../http/representation.js';
import { route, type AnyRoute } from '../http/routes.js';
import { integrityError, type StorageAgent } from '../r2-storage/agent.js';
import { StorageUnavailableError } from '../r2-storage/backend.js';
import { IntegrityError } from '../r2-storage/format.js';
import { KeyError } from '../r2-storage/keyring.js';
import { serve } from '../r2-storage/serve.js';
import { guardExecution } from './guard.js';
import { TAG } from './routes.js';
import { ExecuteTransfer, TransferParams } from './schemas.js';

export function deliveryRoutes(agent: StorageAgent): AnyRoute[] {
  const { ledger, o } = agent;
  return [
    route({
      method: 'post',
      path: '/r3/transfers/:transferId/delivery',
      tag: TAG,
      summary:
        'Execute a consented transfer and receive its data (application/octet-stream): the transfer guard first (403 unless CONSENTED, unexpired and bound to this fingerprint), then the object is verified against the bound fingerprint, ExecuteTransfer is committed, and only then are the bytes sent',
      description:
        'The same decision as …/execute (the chaincode authorizes the executor and allows one execution); Mvsec-Transfer-Tx names the committed transaction. Execution is single-use: a delivery cut short cannot be repeated, the owner shares again with a new transfer.',
      access: 'authenticated',
      params: TransferParams,
      body: ExecuteTransfer,
      binaryResponse: { contentType: STREAM_TYPE, description: 'The moved object, verified; Repr-Digest carries its SHA-256' },
      statuses: [400, 403, 404, 409, 410, 502, 503],
      handler: async ({ req, res, caller, params, body }) => {
        const t = await guardExecution(ledger, caller, params.transferId, body.dataSha256, o.now ?? Date.now);
        const e = await agent.entryOf(t.dataId);
        if (e.state === 'DELETED') throw agent.gone(e, false);
        let reader;
        try {
          reader = await agent.store().openVerified(e, { sha256: t.dataSha256, size: e.size });
        } catch (err) {
          if (err instanceof IntegrityError || err instanceof KeyError) {
            agent.integrityFailed({ dataId: t.dataId, address: e.address, detail: `transfer ${t.transferId} refused: ${err.message}` });
            throw integrityError(
              `data ${t.dataId} failed verification against transfer ${t.transferId}'s fingerprint; nothing was executed or sent`,
            );
          }
          if (err instanceof StorageUnavailableError) throw agent.unavailable(err);
          throw err;
        }
        let txId: string;
        try {
          ({ txId } = await ledger.transfers.execute(caller, t.transferId, t.dataSha256));
        } catch (err) {
          await reader.close();
          throw err;
        }
        res.setHeader('Mvsec-Transfer-Tx', txId);
        await serve(req, res, reader, { sha256: t.dataSha256, size: e.size }, (detail) =>
          agent.integrityFailed({ dataId: t.dataId, address: e.address, detail: `transfer ${t.transferId}: ${detail}` }),
        );
        return {};
      },
    }),
  ];
}
