/** `npm stop`: stop every process `npm start` started; the ledgers stay for the next start. */
import { main } from './lib/log.js';
import { networkDown } from './network/lifecycle.js';

main(() => networkDown());
