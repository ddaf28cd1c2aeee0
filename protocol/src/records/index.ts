/** The records the chaincode keeps on the ledger, as every reader of the ledger sees them. */
export * from './actor';
export * from './access';
export * from './activity';
export * from './alert';
export * from './avatar';
export * from './data';
export * from './dpm';
export * from './platform';
export * from './thing';
export * from './transfer';
export * from './governance';
export * from './identity';
