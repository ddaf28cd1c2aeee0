/** Runs a demo against the system `npm start` runs (gateway address and data folder as it uses them). */
import { gatewayAddress } from '../scripts/gateway.js';
import { DATA } from '../scripts/lib/paths.js';
import { bootstrapCast, consoleNarrator, StepFailed, type Cast, type Narrator } from './lib.js';

export function demoMain(title: string, scenario: (cast: Cast, say: Narrator) => Promise<unknown>): void {
  const { url } = gatewayAddress();
  console.log(`${title}\ngateway ${url}, data ${DATA}`);
  const started = Date.now();
  scenario(bootstrapCast(url, DATA), consoleNarrator()).then(
    () => console.log(`\n✔ ${title}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`),
    (e: unknown) => {
      console.error(`\n✖ ${title}: ${e instanceof StepFailed ? e.message : ((e as Error)?.stack ?? String(e))}`);
      if (String((e as Error)?.message).includes('fetch failed')) console.error(`  is the system running? start it with \`npm start\``);
      process.exit(1);
    },
  );
}
