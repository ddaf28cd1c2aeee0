#!/usr/bin/env node
// `mvsec`: the auditor's command-line tool (sources are TypeScript, run through tsx).
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
