/**
 * Durable file replacement, the one way the gateway writes state files (storage index and keys,
 * DPM envelopes, telemetry journal and replay marks): a temporary file, fsync, rename over the
 * target, fsync of the directory — once it returns, the new content survives a crash (old or new,
 * never torn).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

const tmpOf = (path: string) => `${path}.${randomBytes(6).toString('hex')}.tmp`;

export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tmpOf(path);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** The same, synchronously (at start, before anything else may touch the file). */
export function writeFileAtomicSync(path: string, data: Buffer | string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tmpOf(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const d = openSync(dirname(path), 'r');
  try {
    fsyncSync(d);
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  } finally {
    closeSync(d);
  }
}

export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  } finally {
    await d.close();
  }
}
