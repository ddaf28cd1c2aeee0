/** C1: lines sealed at rest (telemetry's journal and batch file): a key per line, bound to its file's purpose. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { LineSealer } from '../../../gateway/src/crypto/sealed-line.js';

describe('sealed lines (C1)', () => {
  const key = randomBytes(32);
  const s = new LineSealer(key, 'mvsec telemetry readings');
  const text = JSON.stringify({ thingId: 'watch', readings: [{ seq: 1, sensor: 'heart-rate', value: 72 }] });

  it('round trip; no plaintext, no newline; every seal differs (fresh salt, so a fresh key)', () => {
    const a = s.seal(text);
    const b = s.seal(text);
    assert.equal(s.open(a), text);
    assert.equal(s.open(b), text);
    assert.notEqual(a, b);
    assert.match(a, /^s1\.[A-Za-z0-9_-]+$/);
    assert.doesNotMatch(a, /heart|watch/);
    assert.equal(s.open(s.seal('')), '');
  });

  it('another key, another purpose, a changed or cut line: refused', () => {
    const line = s.seal(text);
    assert.throws(() => new LineSealer(randomBytes(32), 'mvsec telemetry readings').open(line), /authenticate/);
    assert.throws(() => new LineSealer(key, 'mvsec other file').open(line), /authenticate/);
    const i = line.length - 5;
    const flipped = line.slice(0, i) + (line[i] === 'A' ? 'B' : 'A') + line.slice(i + 1);
    assert.throws(() => s.open(flipped), /authenticate/);
    assert.throws(() => s.open(line.slice(0, 20)), /too short/);
    assert.throws(() => s.open('garbage'), /not a sealed line/);
  });

  it('a plain JSON line written before sealing existed is read as it is', () => {
    assert.equal(s.open(text), text);
  });

  it('a key must be 32 bytes', () => {
    assert.throws(() => new LineSealer(randomBytes(16), 'x'), /32 bytes/);
  });
});
