/** Sign-in and account schemas (built-in accounts, TOTP). */
import { z } from 'zod';
import { Id, Role } from 'mvsec-protocol/inputs';

export type RoleName = z.infer<typeof Role>;

export const Login = z.strictObject({
  username: Id,
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^\d{6}$/)
    .optional(),
});
export const Refresh = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export const CreateUser = z.strictObject({
  username: Id,
  password: z.string().min(12).max(1024),
  role: Role,
  principal: Id.optional(),
});
export const TotpCode = z.strictObject({ totp: z.string().regex(/^\d{6}$/) });
export const UsernameParams = z.strictObject({ username: Id });
