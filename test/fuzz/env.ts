/**
 * The fuzzing run's own system, unless told otherwise: data in .data-fuzz, ports + 20000, the
 * gateway on 8080 + offset, tokens valid for the whole run, the monitor off (its alerts are
 * ledger writes of its own, which would blur the check that refused requests write nothing).
 * Import first: paths and topology read the environment when they load.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.env.MVSEC_DATA_DIR ??= join(root, '.data-fuzz');
process.env.MVSEC_PORT_OFFSET ??= '20000';
process.env.MVSEC_GATEWAY_PORT ??= String(8080 + Number(process.env.MVSEC_PORT_OFFSET));
process.env.MVSEC_GATEWAY_ACCESS_TTL ??= '14400';
process.env.MVSEC_MONITOR ??= '0';
