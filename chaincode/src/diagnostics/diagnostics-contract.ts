import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';

/**
 * Operator diagnostics: lets an operator prove that the network endorses, orders and commits,
 * and that the chaincode sees the caller's certificate attributes. Keys are scoped to the
 * caller's MSP under their own composite-key namespace, so this contract can never touch
 * domain state.
 */
@Info({ title: 'DiagnosticsContract', description: 'Liveness probes and identity echo for operators' })
export class DiagnosticsContract extends Contract {
  constructor() {
    super('diagnostics');
  }

  /** The caller's MSP, certificate subject and the mvsec attributes (role, principal) it carries. */
  @Transaction(false)
  @Returns('string')
  public async WhoAmI(ctx: Context): Promise<string> {
    const id = ctx.clientIdentity;
    return JSON.stringify({
      mspId: id.getMSPID(),
      principal: id.getAttributeValue('principal'),
      role: id.getAttributeValue('role'),
      subject: id.getID(),
    });
  }

  /** Write a probe value; the key is scoped to the caller's MSP. */
  @Transaction()
  public async PutProbe(ctx: Context, name: string, value: string): Promise<void> {
    assertProbeName(name);
    if (value.length > 1024) throw new Error('probe value longer than 1024 characters');
    const key = ctx.stub.createCompositeKey('diag~probe', [ctx.clientIdentity.getMSPID(), name]);
    await ctx.stub.putState(key, Buffer.from(value, 'utf8'));
  }

  /** Read a probe value written by members of `mspId`; empty string when absent. */
  @Transaction(false)
  @Returns('string')
  public async GetProbe(ctx: Context, mspId: string, name: string): Promise<string> {
    assertProbeName(name);
    assertProbeName(mspId);
    const key = ctx.stub.createCompositeKey('diag~probe', [mspId, name]);
    const value = await ctx.stub.getState(key);
    return Buffer.from(value ?? []).toString('utf8');
  }
}

function assertProbeName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new Error(`invalid probe name "${name}": use 1-64 letters, digits, '.', '_' or '-'`);
  }
}
