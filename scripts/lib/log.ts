/** Console output for operators: one line per step, failures with what to do next. */
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (useColor ? `\u001b[${code}m${s}\u001b[0m` : s);

export const log = {
  step: (msg: string) => console.log(`${paint(36, '▸')} ${msg}`),
  ok: (msg: string) => console.log(`${paint(32, '✔')} ${msg}`),
  info: (msg: string) => console.log(`  ${msg}`),
  warn: (msg: string) => console.warn(`${paint(33, '!')} ${msg}`),
  error: (msg: string) => console.error(`${paint(31, '✘')} ${msg}`),
};

/** An error whose message is meant for the operator as-is (no stack trace needed). */
export class OperatorError extends Error {}

/** Run a CLI entry point: operator errors print their message and exit 1. */
export function main(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (e: unknown) => {
      if (e instanceof OperatorError) log.error(e.message);
      else log.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(1);
    },
  );
}
