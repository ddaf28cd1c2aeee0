/**
 * The load-and-faults run's own system, unless told otherwise: data in .data-faults, ports +
 * 30000, the gateway on 8080 + offset, tokens valid for the run, the monitor off (its alerts
 * would be ledger writes of their own). Import first: paths and topology read the environment.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
process.env.MVSEC_DATA_DIR ??= join(root, '.data-faults');
process.env.MVSEC_PORT_OFFSET ??= '30000';
process.env.MVSEC_GATEWAY_PORT ??= String(8080 + Number(process.env.MVSEC_PORT_OFFSET));
process.env.MVSEC_GATEWAY_ACCESS_TTL ??= '14400';
process.env.MVSEC_MONITOR ??= '0';
