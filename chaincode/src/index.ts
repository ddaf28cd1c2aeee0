import { DiagnosticsContract } from './diagnostics/diagnostics-contract';

export { DiagnosticsContract };

/** Every contract the chaincode serves; fabric-chaincode-node reads this export. */
export const contracts: unknown[] = [DiagnosticsContract];
