/** R4 HTTP parameters and answers (the bodies are mvsec-protocol's ledger inputs). */
import { z } from 'zod';
import { Id } from 'mvsec-protocol/inputs';

export const GrantParams = z.strictObject({ grantId: Id });
export const AccessDecision = z.object({ allowed: z.boolean(), reason: z.string(), grantId: z.string().optional() });
