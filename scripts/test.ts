/** `npm test`: unit tests, then the integration suite on a real network; one closing count line. */
import './lib/test-env.js';
import { main } from './lib/log.js';
import { add, summary } from './lib/node-test.js';
import { integrationTests } from './test-integration.js';
import { unitTests } from './test-unit.js';

main(async () => {
  const unit = await unitTests();
  console.log(summary('unit', unit));
  const integration = await integrationTests();
  console.log(summary('integration', integration));
  const all = add(unit, integration);
  console.log(summary('tests', all));
  if (all.failed) process.exit(1);
});
