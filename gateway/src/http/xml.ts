/**
 * P1: XML as a third representation of the one data model. The mapping is the W3C standard one
 * for JSON in XML — XPath 3.1 `fn:json-to-xml` (namespace http://www.w3.org/2005/xpath-functions):
 * `<map>` with children keyed by a `key` attribute, `<array>`, `<string>`, `<number>`,
 * `<boolean>`, `<null>`; strings with characters XML 1.0 cannot carry use `escaped="true"` and
 * JSON escapes. So XML carries exactly what JSON does, and any XSLT 3 / XPath 3.1 processor reads
 * it with `xml-to-json`.
 *
 * Hostile XML is refused before parsing: no DOCTYPE (so no entity definitions, no external
 * entities, no entity expansion), no processing instructions beyond the XML declaration; depth is
 * limited; only the five predefined entities and character references are decoded. Parsing is
 * fast-xml-parser's; the output is written here (it is a few lines of escaping).
 */
import { isUtf8 } from 'node:buffer';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ApiError } from './problem.js';

export const XML_TYPE = 'application/xml';
export const PROBLEM_XML = 'application/problem+xml';
export const XPATH_FUNCTIONS_NS = 'http://www.w3.org/2005/xpath-functions';
const MAX_DEPTH = 32;

// ------------------------------------------------------------------------------------- writing

// Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
/** JSON's escapes without the quotes: what `escaped="true"` means. */
const jsonEscaped = (s: string) => JSON.stringify(s).slice(1, -1);

function keyAttr(key: string | undefined): string {
  if (key === undefined) return '';
  return NOT_XML.test(key) ? ` escaped-key="true" key="${escapeAttr(jsonEscaped(key))}"` : ` key="${escapeAttr(key)}"`;
}

function write(v: unknown, key: string | undefined, out: string[], depth: number): void {
  if (depth > MAX_DEPTH * 2) throw new Error('value nests too deeply for XML');
  const k = keyAttr(key);
  if (v === null || v === undefined) out.push(`<null${k}/>`);
  else if (typeof v === 'string') {
    if (NOT_XML.test(v)) out.push(`<string${k} escaped="true">${escapeText(jsonEscaped(v))}</string>`);
    else out.push(`<string${k}>${escapeText(v)}</string>`);
  } else if (typeof v === 'number') out.push(Number.isFinite(v) ? `<number${k}>${v}</number>` : `<null${k}/>`);
  else if (typeof v === 'boolean') out.push(`<boolean${k}>${v}</boolean>`);
  else if (typeof v === 'bigint') out.push(`<number${k}>${v.toString()}</number>`);
  else if (Array.isArray(v)) {
    out.push(`<array${k}>`);
    for (const x of v) write(x, undefined, out, depth + 1);
    out.push('</array>');
  } else if (typeof v === 'object') {
    // As JSON.stringify does: toJSON (dates), undefined members left out.
    const o = typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v;
    if (o !== v) return write(o, key, out, depth);
    out.push(`<map${k}>`);
    for (const [name, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) write(x, name, out, depth + 1);
    out.push('</map>');
  } else out.push(`<null${k}/>`);
}

/** `value` (the JSON data model) as an XML document in the fn:json-to-xml mapping. */
export function toXml(value: unknown): string {
  const out: string[] = [];
  write(value, undefined, out, 0);
  const root = out[0].replace(/^<(\w+)/, `<$1 xmlns="${XPATH_FUNCTIONS_NS}"`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}${out.slice(1).join('')}`;
}

// ------------------------------------------------------------------------------------- reading

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false, // decoded here: the predefined five and character references only
  htmlEntities: false,
  ignoreDeclaration: true,
  removeNSPrefix: false,
});

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const malformed = (why: string) => new ApiError(400, `malformed XML: ${why}`, 'malformed-body');

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Decode the predefined entities and character references in one pass; any other `&` is refused. */
function decode(s: string): string {
  return s.replace(/&([^;&\s]{0,12});?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw malformed(`a bare "&" (write &amp;)`);
    if (PREDEFINED[ref] !== undefined) return PREDEFINED[ref];
    const code = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? Number(ref.slice(1)) : NaN;
    if (!Number.isInteger(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || NOT_XML.test(String.fromCodePoint(code)))
      throw malformed(`the entity or character reference ${m} (no DTD entities here)`);
    return String.fromCodePoint(code);
  });
}

/** The element's attributes, decoded. */
function attrsOf(n: Node): Record<string, string> {
  return Object.fromEntries(Object.entries(n[':@'] ?? {}).map(([k, v]) => [k, decode(String(v))]));
}

function nameOf(n: Node): string {
  const name = Object.keys(n).find((k) => k !== ':@');
  if (!name) throw malformed('an empty node');
  return name;
}

/** Element children, refusing text other than whitespace between them (mixed content). */
function elements(children: Node[], where: string): Node[] {
  const out: Node[] = [];
  for (const c of children) {
    const name = nameOf(c);
    if (name === '#text') {
      if (String(c['#text']).trim() !== '') throw malformed(`text directly inside <${where}>`);
    } else if (name === '#comment') continue;
    else out.push(c);
  }
  return out;
}

function textOf(children: Node[], where: string): string {
  let s = '';
  for (const c of children) {
    const name = nameOf(c);
    if (name === '#text') s += decode(String(c['#text']));
    else if (name !== '#comment') throw malformed(`<${where}> holds an element`);
  }
  return s;
}

function unescaped(s: string, escaped: boolean, what: string): string {
  if (!escaped) return s;
  try {
    // JSON escapes; a literal '"' may stand unescaped (the mapping allows it), JSON needs it escaped.
    let quoted = '';
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\') quoted += s[i] + (s[++i] ?? '');
      else quoted += s[i] === '"' ? '\\"' : s[i];
    }
    return JSON.parse(`"${quoted}"`) as string;
  } catch {
    throw malformed(`${what} marked escaped="true" holds an invalid escape`);
  }
}

function read(n: Node, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ApiError(400, `XML body nests deeper than ${MAX_DEPTH} levels`, 'malformed-body');
  const name = nameOf(n);
  const attrs = attrsOf(n);
  const children = (n[name] ?? []) as Node[];
  const local = name.replace(/^[\w.-]+:/, '');
  switch (local) {
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const c of elements(children, name)) {
        const a = attrsOf(c);
        if (typeof a.key !== 'string') throw malformed(`a member of <map> has no key attribute (<${nameOf(c)}>)`);
        const key = unescaped(a.key, a['escaped-key'] === 'true', 'a key');
        if (key === '__proto__') throw new ApiError(400, '"__proto__" is not an allowed key', 'malformed-body');
        if (Object.prototype.hasOwnProperty.call(out, key)) throw malformed(`key "${key}" appears twice in one <map>`);
        out[key] = read(c, depth + 1);
      }
      return out;
    }
    case 'array':
      return elements(children, name).map((c) => {
        if ((c[':@'] ?? {}).key !== undefined) throw malformed('a member of <array> has a key attribute');
        return read(c, depth + 1);
      });
    case 'string':
      return unescaped(textOf(children, name), attrs.escaped === 'true', 'a string');
    case 'number': {
      const t = textOf(children, name).trim();
      if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t)) throw malformed(`<number> holds "${t.slice(0, 40)}"`);
      return Number(t);
    }
    case 'boolean': {
      const t = textOf(children, name).trim();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw malformed(`<boolean> holds "${t.slice(0, 40)}"`);
    }
    case 'null':
      if (textOf(children, name).trim() !== '') throw malformed('<null> is not empty');
      return null;
    default:
      throw malformed(`<${name}> is not an element of the fn:json-to-xml mapping (map, array, string, number, boolean, null)`);
  }
}

/** An XML request body (fn:json-to-xml mapping) as the JSON data model; 400 with the reason otherwise. */
export function parseXml(raw: Buffer): unknown {
  if (!isUtf8(raw)) throw new ApiError(400, 'request body is not valid UTF-8', 'malformed-body');
  const text = raw.toString('utf8');
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text))
    throw new ApiError(400, 'XML with a DOCTYPE is refused: no DTDs, no entity definitions', 'malformed-body');
  if (/<\?(?!xml[\s?])/i.test(text)) throw new ApiError(400, 'XML processing instructions are refused', 'malformed-body');
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw malformed(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const nodes = (parser.parse(text) as Node[]).filter((n) => {
    const name = nameOf(n);
    return name !== '#comment' && !(name === '#text' && String(n['#text']).trim() === '');
  });
  if (nodes.length !== 1) throw malformed(`the document has ${nodes.length} root elements`);
  const ns = attrsOf(nodes[0]).xmlns;
  if (ns !== undefined && ns !== XPATH_FUNCTIONS_NS) throw malformed(`the root's namespace is ${ns}, not ${XPATH_FUNCTIONS_NS}`);
  return read(nodes[0], 0);
}
