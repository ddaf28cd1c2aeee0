/** `npm stop`: stop every process `npm start` started; the ledgers stay for the next start. */
import { stopGateway } from './gateway.js';
import { main } from './lib/log.js';
import { networkDown } from './network/lifecycle.js';

main(async () => {
  await stopGateway();
  await networkDown();
});
