/* eslint-disable no-control-regex -- these patterns exist to refuse control characters */
/**
 * The value rules every ledger input follows (the chaincode's assertId / assertText / limits):
 * one zod source for the TypeScript types and the runtime checks.
 */
import { z } from 'zod';
import { ROLES } from '../roles';
import { CLASSIFICATIONS } from '../records/thing';
import { MAX_CAPABILITY_LEVEL } from '../records/platform';

/** Lone UTF-16 surrogates (the chaincode refuses them; JSON can carry them as \uD800 escapes). */
const hasLoneSurrogate = (s: string) => /[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));

/** 1–128 characters, no control characters, no surrounding whitespace, no U+10FFFF (chaincode ids). */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[^\s\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f])?$/,
    'must have no control characters and no surrounding whitespace',
  )
  .refine((s) => !s.includes('\u{10ffff}'), 'must not contain U+10FFFF')
  .refine((s) => !hasLoneSurrogate(s), 'must not contain unpaired UTF-16 surrogates');

/** Id lists as the chaincode takes them (assertIdList): at most 64, no duplicates (uniqueItems in the OpenAPI document). */
export const IdList = () =>
  z
    .array(Id)
    .max(64)
    .refine((a) => new Set(a).size === a.length, 'must not contain duplicates')
    .meta({ uniqueItems: true });

/** One X.509 certificate in PEM (line breaks allowed, nothing else outside base64). */
export const CertificatePem = z
  .string()
  .min(100)
  .max(16_384)
  .regex(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/, 'must be one PEM certificate');
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)');
export const Iso = z.iso.datetime({ offset: true });
/** Printable text as the chaincode takes it (assertText): no C0 or C1 control characters, no lone surrogates. */
export const Text = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must have no control characters (C0 or C1)')
    .refine((s) => !hasLoneSurrogate(s), 'must not contain unpaired UTF-16 surrogates');
export const Role = z.enum(ROLES);
export const Classification = z.enum(CLASSIFICATIONS);
export const CapabilityLevel = z.number().int().min(0).max(MAX_CAPABILITY_LEVEL);
export const Reason = z.strictObject({ reason: Text(1024).min(1) });
