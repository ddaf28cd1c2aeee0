/** R3 cross-metaverse transfers (transfer contract). */
import type { Transfer } from 'mvsec-protocol';
import type { RequestTransferInput } from 'mvsec-protocol/inputs';
import type { Caller } from '../auth/principal.js';
import type { SubmitOptions } from './ledger.js';
import { json, type Committed, type Transactions } from './transactions.js';

export class TransfersLedger {
  constructor(private readonly tx: Transactions) {}

  get(caller: Caller, transferId: string): Promise<Transfer> {
    return this.tx.evaluate(caller, 'transfer:GetTransfer', [transferId]);
  }
  request(caller: Caller, input: RequestTransferInput, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:RequestTransfer', [json(input)], o);
  }
  approveAsSource(caller: Caller, transferId: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:ApproveTransferAsSource', [transferId], o);
  }
  approveAsTarget(caller: Caller, transferId: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:ApproveTransferAsTarget', [transferId], o);
  }
  consent(caller: Caller, transferId: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:ConsentTransfer', [transferId], o);
  }
  execute(caller: Caller, transferId: string, dataSha256: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:ExecuteTransfer', [transferId, dataSha256], o);
  }
  reject(caller: Caller, transferId: string, reason: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:RejectTransfer', [transferId, reason], o);
  }
  revoke(caller: Caller, transferId: string, reason: string, o?: SubmitOptions): Promise<Committed<Transfer>> {
    return this.tx.submit(caller, 'transfer:RevokeTransfer', [transferId, reason], o);
  }
}
