/** Ledger inputs: what a client sends to the chaincode's transactions, as zod schemas with their types. */
export * from './primitives';
export * from './platform';
export * from './thing';
export * from './avatar';
export * from './access';
export * from './transfer';
