/**
 * mvsec-protocol: the one definition of what crosses the wire and the ledger boundary. Chaincode,
 * gateway, audit CLI, DPM worker and clients import it; nothing else defines these.
 */
export * from './canonical-json';
export * from './errors';
export * from './merkle';
export * from './reading';
export * from './roles';
export * from './records';
export * from './stream';
export * as inputs from './inputs';
