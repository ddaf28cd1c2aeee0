/**
 * Lines of an append-only file sealed at rest (C1): telemetry keeps readings in JSON-lines files
 * (the accepted-readings journal, the anchored batches) and a line must not be readable by whoever
 * reads the state folder. Each line is AES-256-GCM under its own key, derived with HKDF-SHA256 from
 * the gateway's storage key and a random 128-bit salt: a long-running gateway appends millions of
 * lines, more than one key should see random nonces for, and a key used once needs no nonce of its
 * own (the nonce is fixed). The file's purpose is bound as AAD, so a line does not open in another
 * file. Sealed line: `s1.` + base64url(salt 16 | tag 16 | ciphertext). A line starting with `{` is a
 * plain JSON line written before sealing existed and is read as it is.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 's1.';
const INFO = Buffer.from('mvsec sealed line v1', 'utf8');
const NONCE = Buffer.alloc(12);

export class LineSealer {
  private readonly aad: Buffer;

  constructor(
    private readonly key: Buffer,
    context: string,
  ) {
    if (key.length !== 32) throw new Error('a sealing key is 32 bytes');
    this.aad = Buffer.from(context, 'utf8');
  }

  private lineKey(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, salt, INFO, 32));
  }

  /** The sealed form of one line's text (no newline in or out). */
  seal(text: string): string {
    const salt = randomBytes(16);
    const c = createCipheriv('aes-256-gcm', this.lineKey(salt), NONCE);
    c.setAAD(this.aad);
    const ct = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([salt, c.getAuthTag(), ct]).toString('base64url');
  }

  /** The text of a sealed (or older plain JSON) line; throws when it does not authenticate. */
  open(line: string): string {
    if (line.startsWith('{')) return line;
    if (!line.startsWith(PREFIX)) throw new Error('not a sealed line');
    const raw = Buffer.from(line.slice(PREFIX.length), 'base64url');
    if (raw.length < 32) throw new Error('sealed line is too short');
    const d = createDecipheriv('aes-256-gcm', this.lineKey(raw.subarray(0, 16)), NONCE);
    d.setAAD(this.aad);
    d.setAuthTag(raw.subarray(16, 32));
    return Buffer.concat([d.update(raw.subarray(32)), d.final()]).toString('utf8');
  }
}

/** No key (tests, a gateway without a state folder): lines stay as they are. */
export const PLAIN_LINES = { seal: (text: string) => text, open: (line: string) => line } as const;

export type LineCodec = Pick<LineSealer, 'seal' | 'open'>;
