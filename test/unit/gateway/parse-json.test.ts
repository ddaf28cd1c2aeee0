/**
 * JSON request bodies (P1): parsed as JSON.parse does; a "__proto__" key is refused however it is
 * spelt (literally or with \u escapes), also deep inside; invalid UTF-8 and malformed JSON are 400
 * malformed-body problems. (The reviver runs only when the text could hold such a key: issue 5.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../gateway/src/http/problem.js';
import { parseJson } from '../../../gateway/src/http/representation.js';

const refused = (raw: string | Buffer, message: RegExp) =>
  assert.throws(
    () => parseJson(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw),
    (e: unknown) => e instanceof ApiError && e.status === 400 && e.kind === 'malformed-body' && message.test(e.detail),
  );

describe('gateway: JSON bodies', () => {
  it('parses what JSON.parse parses, escapes included', () => {
    for (const text of ['{"readings":[{"seq":1,"value":[0.25,-1,null,true]}]}', '{"a":"\\u00e9\\n","b":{"c":"é"}}', '[1,"x"]', '"s"', '3'])
      assert.deepEqual(parseJson(Buffer.from(text, 'utf8')), JSON.parse(text));
  });

  it('refuses a "__proto__" key, literal or escaped, at any depth', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":[{"b":{"__proto__":1}}]}',
      '{"\\u005f_proto__":{"admin":true}}',
      '{"__pro\\u0074o__":1}',
      '{"a":{"\\u005F\\u005Fproto\\u005F\\u005F":1}}',
    ])
      refused(text, /^malformed JSON: "__proto__" is not an allowed key$/);
    assert.deepEqual(parseJson(Buffer.from('{"v":"__proto__"}')), { v: '__proto__' }, 'as a value it is only text');
  });

  it('refuses invalid UTF-8 and malformed JSON', () => {
    refused(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), /^request body is not valid UTF-8$/);
    refused(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), /^request body is not valid UTF-8$/); // an encoded surrogate
    refused('{"a":1,}', /^malformed JSON: /);
    refused('{"a":"\\u12"}', /^malformed JSON: /);
  });
});
