/** AES-256-GCM sealing of secrets at rest (C1): random 96-bit nonce, the context bound as AAD. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Sealed {
  alg: 'A256GCM';
  iv: string;
  tag: string;
  ct: string;
}

/** A 32-byte key from hex (64 chars) or base64/base64url (43–44 chars). */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('the encryption key must be 32 bytes (64 hex characters or base64)');
  return key;
}

export function seal(key: Buffer, plaintext: Buffer | string, context: string): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { alg: 'A256GCM', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), ct: ct.toString('base64') };
}

export function unseal(key: Buffer, s: Sealed, context: string): Buffer {
  if (s.alg !== 'A256GCM') throw new Error(`unsupported sealing algorithm ${String(s.alg)}`);
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
  d.setAAD(Buffer.from(context, 'utf8'));
  d.setAuthTag(Buffer.from(s.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(s.ct, 'base64')), d.final()]);
}
