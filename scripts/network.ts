/** `npm run network:<command>`: up | down | status | reset | deploy. */
import { loadTopology } from '../network/topology.js';
import { log, main, OperatorError } from './lib/log.js';
import { deploy, networkDown, networkReset, networkUp } from './network/lifecycle.js';
import { networkStatus } from './network/status.js';

const commands: Record<string, () => Promise<void>> = {
  up: async () => {
    const t = loadTopology();
    await networkUp(t);
    await deploy(t);
  },
  down: () => networkDown(),
  reset: () => networkReset(),
  deploy: async () => {
    await deploy();
  },
  status: async () => {
    if (!(await networkStatus())) {
      log.warn('some nodes are not running or not healthy (`npm run network:up` starts them)');
      process.exitCode = 3;
    }
  },
};

main(async () => {
  const cmd = process.argv[2] ?? '';
  const run = commands[cmd];
  if (!run) throw new OperatorError(`usage: tsx scripts/network.ts <${Object.keys(commands).join('|')}>`);
  await run();
  if (process.exitCode) process.exit(process.exitCode);
});
