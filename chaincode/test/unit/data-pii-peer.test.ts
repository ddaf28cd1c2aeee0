import { describe, it } from 'node:test';
import { MemoryStub } from '../support/memory-ledger';
import { id, rejects, World } from '../support/fixtures';
import { storeAndAnchorPii } from '../support/pii';

/**
 * Found on the real network: a peer outside the PII collection holds only the private data's hash,
 * and Fabric fails getPrivateData with "private data matching public hash version is not available"
 * rather than returning nothing. GetPII must still answer with its NOT_FOUND code and reason.
 */
describe('data contract: GetPII on a peer outside the collection', () => {
  it('X7: a failing private read (non-member peer) is reported as NOT_FOUND, not a raw peer error', async () => {
    const w = new World();
    await w.platforms();
    await w.watch();
    await storeAndAnchorPii(w, 'd-pii', 'Alice Example');
    const original = MemoryStub.prototype.getPrivateData;
    MemoryStub.prototype.getPrivateData = async () => {
      throw new Error('GET_STATE failed: private data matching public hash version is not available');
    };
    try {
      await rejects(w.chain.evaluate(w.data, 'GetPII', id.alice, ['d-pii']), 'NOT_FOUND', 'is not on this peer');
    } finally {
      MemoryStub.prototype.getPrivateData = original;
    }
  });
});
