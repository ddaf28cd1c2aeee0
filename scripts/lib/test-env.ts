/**
 * The integration tests' own network: data in .data-test and every port shifted by 10000, so
 * tests never touch a system started with `npm start`. Import this module before any other
 * project module (paths and topology read the environment when they load).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
process.env.MVSEC_DATA_DIR ??= join(root, '.data-test');
process.env.MVSEC_PORT_OFFSET ??= '10000';
