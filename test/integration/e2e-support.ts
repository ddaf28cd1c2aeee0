/** The demos' actors on a gateway a test started (accounts made through its login service). */
import type { Cast } from '../../demo/lib.js';
import type { Role } from 'mvsec-protocol';
import type { LiveGateway } from './gateway-support.js';

export function liveCast(gw: LiveGateway): Cast {
  return {
    url: gw.url,
    run: gw.run,
    async actor(mspId, role, label, principal) {
      const c = await gw.as(mspId, role as Role, principal);
      return { label, principal: c.principal, mspId: c.mspId, role: c.role, token: c.token, call: c.call };
    },
    bindProvider: (account) => gw.bindProvider(account),
  };
}
