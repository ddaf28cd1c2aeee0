import { allow, deny, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';
import type { PrincipalKey } from './principal-key';

/**
 * Principal keys (trust rule 8):
 * - a principal binds its own key: the caller's certificate names the principal and, while no key
 *   is bound, is trusted on first use; DPM providers bind with platform:BindProviderIdentity;
 * - only the bound key rebinds (a new key, same principal and CA) or unbinds — not the
 *   organisation's admin, whose CA could otherwise take the principal back.
 */
export const identityPolicy = {
  'identity.bind': (caller) => {
    if (caller.principal === null) return deny(`binding a key needs a certificate naming its principal; caller is ${describe(caller)}`);
    if (caller.role === 'dpm')
      return deny(`a DPM provider's identities are bound by its admin with platform:BindProviderIdentity; caller is ${describe(caller)}`);
    return allow(`${caller.principal} of ${caller.mspId} binds its own key`);
  },
  'identity.rebind': (caller, f: { bound: PrincipalKey }) => {
    const { bound } = f;
    if (caller.mspId !== bound.mspId || caller.principal !== bound.principal)
      return deny(`only the key bound to ${bound.principal} of ${bound.mspId} changes its binding; caller is ${describe(caller)}`);
    return allow(`the bound key of ${bound.principal}`);
  },
} satisfies PolicyTable;
