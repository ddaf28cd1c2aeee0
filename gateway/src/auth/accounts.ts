/**
 * Account administration (A3): an admin manages the built-in accounts of its own organisation
 * only — list, disable/enable, delete, reset password and TOTP, unlock. Another organisation's
 * accounts answer 404 like missing ones (no probing). The admin's own role is the one its
 * organisation may issue on the ledger (trust rule 1), checked like account creation.
 */
import { requireRole } from './authenticate.js';
import type { LoginService } from './login.js';
import type { Caller } from './principal.js';
import { assertRoleIssuable } from './role-issuers.js';
import type { LedgerClient } from '../ledger/client.js';
import { ApiError } from '../http/problem.js';
import { route, type AnyRoute } from '../http/routes.js';
import { UsernameParams } from './schemas.js';

const TAG = 'Authentication';

export function accountRoutes(login: LoginService, ledger?: LedgerClient): AnyRoute[] {
  const admin = async (caller: Caller, what: string) => {
    requireRole(caller, ['admin'], what);
    if (ledger) await assertRoleIssuable(ledger, caller, caller.mspId, 'admin');
  };
  const manage = (
    op: string,
    summary: string,
    act: (caller: Caller, username: string) => Promise<unknown>,
    method: 'post' | 'delete' = 'post',
  ) =>
    route({
      method,
      path: op ? `/auth/users/:username/${op}` : '/auth/users/:username',
      tag: TAG,
      summary,
      access: 'authenticated',
      params: UsernameParams,
      statuses: [401, 403, 404, 409],
      handler: async ({ caller, params }) => {
        await admin(caller, 'managing accounts');
        return { body: await act(caller, params.username) };
      },
    });
  return [
    route({
      method: 'get',
      path: '/auth/users',
      tag: TAG,
      summary: "The built-in accounts of the caller's organisation (admin): role, disabled, TOTP enrolled, locked-out clients",
      access: 'authenticated',
      statuses: [401, 403],
      handler: async ({ caller }) => {
        await admin(caller, 'listing accounts');
        return { body: { items: login.accountsOf(caller.mspId) } };
      },
    }),
    manage('disable', 'Disable an account of your organisation: no sign-in, every token refused at once', async (c, u) => {
      const user = login.account(c.mspId, u);
      login.setDisabled(user, true);
      return login.view(user);
    }),
    manage('enable', 'Enable a disabled account of your organisation', async (c, u) => {
      const user = login.account(c.mspId, u);
      login.setDisabled(user, false);
      return login.view(user);
    }),
    manage('unlock', "Lift every client's sign-in lockout of an account of your organisation", async (c, u) => ({
      username: u,
      unlockedClients: login.unlock(login.account(c.mspId, u)),
    })),
    manage(
      'reset',
      'Reset the password (and TOTP secret, for accounts with TOTP) of an account of your organisation: returned once, every token revoked',
      async (c, u) => ({ username: u, ...(await login.resetCredentials(login.account(c.mspId, u))) }),
    ),
    manage(
      '',
      'Delete an account of your organisation (its tokens stop working at once; the ledger keeps what it did)',
      async (c, u) => {
        const user = login.account(c.mspId, u);
        if (user.username === c.username) throw new ApiError(409, 'an admin does not delete its own account', 'conflict');
        login.remove(user);
        return { username: u, deleted: true };
      },
      'delete',
    ),
  ];
}
