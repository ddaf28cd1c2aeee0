/** /auth: built-in sign-in with password + TOTP, refresh, accounts (admins of an MSP), TOTP enrolment. */
import type { Request } from 'express';
import { requireRole } from './authenticate.js';
import type { LoginService } from './login.js';
import { accountRoutes } from './accounts.js';
import { assertRoleIssuable } from './role-issuers.js';
import type { LedgerClient } from '../ledger/client.js';
import { ApiError } from '../http/problem.js';
import { journaled } from '../http/idempotency.js';
import { READ_STATUSES, route, WRITE_STATUSES, type AnyRoute } from '../http/routes.js';
import { Committed, LedgerRecord } from '../http/schemas.js';
import * as S from './schemas.js';
import { z } from 'zod';

const TokensSchema = z.object({ tokenType: z.literal('Bearer'), accessToken: z.string(), expiresIn: z.number(), refreshToken: z.string() });
const TAG = 'Authentication';
// The socket address, or the client a trusted proxy names (listen.trustedProxies → Express `trust proxy`).
const clientOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

export function authRoutes(login: LoginService, ledger?: LedgerClient): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/auth/login',
      tag: TAG,
      summary: 'Sign in with password (+ TOTP, required for admin and auditor); returns a short-lived JWT and a refresh token',
      access: 'public',
      body: S.Login,
      response: TokensSchema,
      statuses: [400, 401, 403, 423, 429],
      handler: async ({ req, body }) => ({ body: await login.login(clientOf(req), body.username, body.password, body.totp) }),
    }),
    route({
      method: 'post',
      path: '/auth/refresh',
      tag: TAG,
      summary: 'Exchange a refresh token for new tokens (rotation; reuse revokes the session)',
      access: 'public',
      body: S.Refresh,
      response: TokensSchema,
      statuses: [400, 401],
      handler: async ({ body }) => ({ body: await login.refreshTokens(body.refreshToken) }),
    }),
    route({
      method: 'post',
      path: '/auth/logout',
      tag: TAG,
      summary: "Revoke a refresh token's session",
      access: 'public',
      body: S.Refresh,
      statuses: [400],
      successStatus: 204,
      handler: async ({ body }) => {
        login.logout(body.refreshToken);
        return {};
      },
    }),
    route({
      method: 'get',
      path: '/auth/me',
      tag: TAG,
      summary: 'The authenticated principal',
      access: 'authenticated',
      statuses: [401],
      handler: async ({ caller }) => ({
        body: { principal: caller.principal, mspId: caller.mspId, role: caller.role, issuer: caller.issuer, amr: caller.amr },
      }),
    }),
    ...(ledger ? keyBindingRoutes(ledger) : []),
    ...accountRoutes(login, ledger),
    route({
      method: 'post',
      path: '/auth/users',
      tag: TAG,
      summary: "Create a built-in account in the caller's MSP (admin); admin and auditor accounts get a TOTP secret",
      access: 'authenticated',
      body: S.CreateUser,
      successStatus: 201,
      statuses: [400, 401, 403, 409, 502, 503],
      handler: async ({ caller, body }) => {
        requireRole(caller, ['admin'], 'creating accounts');
        if (ledger) await assertRoleIssuable(ledger, caller, caller.mspId, body.role);
        const { user, totp } = await login.createUser({ ...body, mspId: caller.mspId });
        return {
          body: { username: user.username, principal: user.principal, mspId: user.mspId, role: user.role, ...(totp ? { totp } : {}) },
        };
      },
    }),
    route({
      method: 'post',
      path: '/auth/totp/enroll',
      tag: TAG,
      summary: 'Start TOTP enrolment for the signed-in built-in account (returns the secret and otpauth URI)',
      access: 'authenticated',
      statuses: [401, 403],
      handler: async ({ caller }) => {
        if (!caller.username)
          throw new ApiError(403, 'TOTP enrolment is for built-in accounts; OIDC principals use their provider', 'forbidden');
        return { body: login.startTotp(caller.username) };
      },
    }),
    route({
      method: 'post',
      path: '/auth/totp/confirm',
      tag: TAG,
      summary: 'Confirm TOTP enrolment with a code from the new secret',
      access: 'authenticated',
      body: S.TotpCode,
      successStatus: 204,
      statuses: [400, 401, 403, 409],
      handler: async ({ caller, body }) => {
        if (!caller.username) throw new ApiError(403, 'TOTP enrolment is for built-in accounts', 'forbidden');
        await login.confirmTotp(caller.username, body.totp);
        return {};
      },
    }),
  ];
}

/**
 * Trust rule 8: the signed-in principal binds the signing key this gateway holds for it, so no
 * other certificate naming the principal (say one its organisation's CA issues later) acts as it.
 */
function keyBindingRoutes(ledger: LedgerClient): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/auth/me/key-binding',
      tag: TAG,
      summary: "Bind the signed-in principal's signing key on the ledger (trust rule 8); afterwards only that key acts as the principal",
      access: 'authenticated',
      response: Committed,
      successStatus: 201,
      statuses: WRITE_STATUSES,
      idempotent: true,
      handler: async ({ caller }) => ({ body: await ledger.identity.bindOwnKey(caller, journaled()) }),
    }),
    route({
      method: 'get',
      path: '/auth/me/key-binding',
      tag: TAG,
      summary: 'The key bound to the signed-in principal (404 when none is)',
      access: 'authenticated',
      response: LedgerRecord,
      statuses: READ_STATUSES,
      handler: async ({ caller }) => ({ body: await ledger.identity.principalKey(caller, caller.mspId, caller.principal) }),
    }),
  ];
}
