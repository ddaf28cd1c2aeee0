import { Info, Returns, Transaction } from '../common/decorators';
import { authorize } from '../auth/authorize';
import { enforce } from '../auth/decision';
import { callerOf } from '../auth/identity';
import { keys } from '../common/keys';
import { LedgerContext, LedgerContract } from '../common/ledger-contract';
import { assertId, assertText } from '../common/validation';

/**
 * Baseline for the benchmark: one authorization check and one putState, no activity record and
 * no event, so domain writes can be compared with the cheapest possible write.
 */
@Info({ title: 'BenchContract', description: 'Trivial put-state baseline for benchmarks (admin only)' })
export class BenchContract extends LedgerContract {
  constructor() {
    super('bench');
  }

  @Transaction()
  public async PutTrivial(ctx: LedgerContext, key: string, value: string): Promise<void> {
    enforce(authorize(callerOf(ctx), 'bench.put'));
    await ctx.stub.putState(keys.bench(ctx.stub, assertId('key', key)), Buffer.from(assertText('value', value) || '-'));
  }

  @Transaction(false)
  @Returns('string')
  public async GetTrivial(ctx: LedgerContext, key: string): Promise<string> {
    enforce(authorize(callerOf(ctx), 'bench.put'));
    return Buffer.from(await ctx.stub.getState(keys.bench(ctx.stub, assertId('key', key)))).toString('utf8');
  }
}
