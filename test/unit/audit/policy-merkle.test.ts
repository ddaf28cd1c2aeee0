/** Endorsement-policy expressions and the Merkle-proof fold the verifier uses. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { rootFromProof } from 'mvsec-protocol';
import { parsePolicy, policyText, satisfies } from '../../../audit/src/policy.js';

const POLICY = "OutOf(2,'IoTPlatformMSP.peer','MetaverseAMSP.peer','MetaverseBMSP.peer')";
const by =
  (...msps: string[]) =>
  (mspId: string, role: string) =>
    role === 'peer' && msps.includes(mspId);

test('A1: OutOf(2, three peer orgs) needs two distinct orgs', () => {
  const p = parsePolicy(POLICY);
  assert.equal(policyText(p), POLICY);
  assert.equal(satisfies(p, by('IoTPlatformMSP', 'MetaverseAMSP')), true);
  assert.equal(satisfies(p, by('MetaverseBMSP', 'MetaverseAMSP')), true);
  assert.equal(satisfies(p, by('MetaverseAMSP')), false);
  assert.equal(satisfies(p, by('MetaverseAMSP', 'DPMProviderMSP')), false);
  assert.equal(
    satisfies(p, () => false),
    false,
  );
});

test('A1: AND, OR and nesting; the role is part of the principal', () => {
  const p = parsePolicy(`AND('A.peer', OR("B.peer", 'C.admin'))`);
  assert.equal(satisfies(p, by('A', 'B')), true);
  assert.equal(satisfies(p, by('A', 'C')), false);
  assert.equal(
    satisfies(p, (m, r) => (m === 'A' && r === 'peer') || (m === 'C' && r === 'admin')),
    true,
  );
});

test('A1: malformed policies are refused with a reason', () => {
  for (const bad of ['', 'OutOf(2)', "AND('A.peer'", "XOR('A.peer')", "'Apeer'", "OR('A.peer') junk"])
    assert.throws(() => parsePolicy(bad), /policy:/, bad);
});

test('C3: a proof folds a leaf up to the root; a changed sibling or side gives another root', () => {
  const h = (s: string) => createHash('sha256').update(s).digest('hex');
  const pair = (a: string, b: string) =>
    createHash('sha256')
      .update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
      .digest('hex');
  const [l0, l1, l2] = ['a', 'b', 'c'].map(h);
  // odd node paired with itself
  const root = pair(pair(l0, l1), pair(l2, l2));
  assert.equal(
    rootFromProof(l2, [
      { position: 'R', sha256: l2 },
      { position: 'L', sha256: pair(l0, l1) },
    ]),
    root,
  );
  assert.equal(
    rootFromProof(l0, [
      { position: 'R', sha256: l1 },
      { position: 'R', sha256: pair(l2, l2) },
    ]),
    root,
  );
  assert.notEqual(
    rootFromProof(l0, [
      { position: 'L', sha256: l1 },
      { position: 'R', sha256: pair(l2, l2) },
    ]),
    root,
  );
  assert.notEqual(
    rootFromProof(l0, [
      { position: 'R', sha256: l2 },
      { position: 'R', sha256: pair(l2, l2) },
    ]),
    root,
  );
  assert.throws(() => rootFromProof('XYZ', []), /64 lower-case hex/);
  assert.throws(() => rootFromProof(l0, [{ position: 'X' as 'L', sha256: l1 }]), /step 0/);
});
