/**
 * Fabric signature-policy expressions as the chaincode definition writes them:
 * `OutOf(2,'IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')`, `AND(...)`, `OR(...)`.
 */
export type Policy = { kind: 'principal'; mspId: string; role: string } | { kind: 'outOf'; n: number; rules: Policy[] };

export function parsePolicy(text: string): Policy {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw new Error(`policy: expected '${c}' at ${i} in ${text}`);
    i++;
  };
  const expr = (): Policy => {
    ws();
    const q = text[i];
    if (q === "'" || q === '"') {
      const end = text.indexOf(q, i + 1);
      if (end < 0) throw new Error(`policy: unterminated principal at ${i}`);
      const p = text.slice(i + 1, end);
      i = end + 1;
      const dot = p.lastIndexOf('.');
      if (dot <= 0) throw new Error(`policy: principal '${p}' is not MSP.role`);
      return { kind: 'principal', mspId: p.slice(0, dot), role: p.slice(dot + 1) };
    }
    const m = /^(AND|OR|OutOf)\s*\(/i.exec(text.slice(i));
    if (!m) throw new Error(`policy: unexpected input at ${i}: ${text.slice(i, i + 20)}`);
    i += m[0].length;
    const op = m[1].toLowerCase();
    let n = -1;
    if (op === 'outof') {
      ws();
      const num = /^\d+/.exec(text.slice(i));
      if (!num) throw new Error(`policy: OutOf needs a count at ${i}`);
      n = Number(num[0]);
      i += num[0].length;
      expect(',');
    }
    const rules = [expr()];
    for (ws(); text[i] === ','; ws()) {
      i++;
      rules.push(expr());
    }
    expect(')');
    return { kind: 'outOf', n: op === 'and' ? rules.length : op === 'or' ? 1 : n, rules };
  };
  const p = expr();
  ws();
  if (i !== text.length) throw new Error(`policy: trailing input at ${i}: ${text.slice(i)}`);
  return p;
}

/** Whether the endorsements satisfy the policy; `has(mspId, role)` says whether a valid endorsement of that principal exists. */
export function satisfies(p: Policy, has: (mspId: string, role: string) => boolean): boolean {
  if (p.kind === 'principal') return has(p.mspId, p.role);
  return p.rules.filter((r) => satisfies(r, has)).length >= p.n;
}

export function policyText(p: Policy): string {
  return p.kind === 'principal' ? `'${p.mspId}.${p.role}'` : `OutOf(${p.n},${p.rules.map(policyText).join(',')})`;
}
