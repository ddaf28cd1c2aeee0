import type { TransferStatus } from './transfer-types';
import { TERMINAL_TRANSFER_STATUSES } from './transfer-types';

/**
 * The cross-metaverse transfer state machine (X3):
 * REQUESTED → SOURCE_APPROVED → TARGET_APPROVED → CONSENTED → EXECUTED (once),
 * and from any non-terminal state → REJECTED | REVOKED | EXPIRED.
 */
export type TransferStep = 'approveSource' | 'approveTarget' | 'consent' | 'execute' | 'reject' | 'revoke' | 'expire';

const FORWARD: Record<'approveSource' | 'approveTarget' | 'consent' | 'execute', { from: TransferStatus; to: TransferStatus }> = {
  approveSource: { from: 'REQUESTED', to: 'SOURCE_APPROVED' },
  approveTarget: { from: 'SOURCE_APPROVED', to: 'TARGET_APPROVED' },
  consent: { from: 'TARGET_APPROVED', to: 'CONSENTED' },
  execute: { from: 'CONSENTED', to: 'EXECUTED' },
};

const ENDINGS: Record<'reject' | 'revoke' | 'expire', TransferStatus> = { reject: 'REJECTED', revoke: 'REVOKED', expire: 'EXPIRED' };

export function isTerminal(status: TransferStatus): boolean {
  return TERMINAL_TRANSFER_STATUSES.includes(status);
}

/** The status `step` leads to from `current`, or a reason why it cannot be taken now. */
export function nextStatus(current: TransferStatus, step: TransferStep): { to: TransferStatus } | { error: string } {
  if (current === 'EXECUTED' && step === 'execute') return { error: 'transfer was already executed; execution is single-use' };
  if (isTerminal(current)) return { error: `transfer is ${current}, a final state` };
  if (step in ENDINGS) return { to: ENDINGS[step as keyof typeof ENDINGS] };
  const rule = FORWARD[step as keyof typeof FORWARD];
  if (current !== rule.from) return { error: `transfer is ${current}; ${step} needs ${rule.from}` };
  return { to: rule.to };
}
