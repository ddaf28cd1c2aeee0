/** Running Fabric CLIs and managing the long-lived node processes (pid files, logs, stop). */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { OperatorError } from './log.js';
import { paths } from './paths.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a command to completion; reject with its output if it fails or runs past the timeout. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new OperatorError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const why = signal ? `killed by ${signal} (timeout?)` : `exit code ${code}`;
        const out = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
        reject(new OperatorError(`${cmd.split('/').pop()} ${args.slice(0, 4).join(' ')} failed (${why}):\n${out}`));
      }
    });
    // A command that exits without reading its input closes the pipe (EPIPE): its exit code tells what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export const logFile = (name: string) => join(paths.logs, `${name}.log`);
const pidFile = (name: string) => join(paths.run, `${name}.pid`);

/** The last lines of a node's log, to show why it failed. */
export function logTail(name: string, lines = 20): string {
  const f = logFile(name);
  if (!existsSync(f)) return `(no log at ${f})`;
  const text = readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `--- last ${lines} lines of ${f} ---\n${text}`;
}

/** Whether a process runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The pid of a running daemon, or undefined. A pid file whose process is gone, or whose pid now
 * belongs to another program, is stale and removed.
 */
export function daemonPid(name: string, marker: string): number | undefined {
  const f = pidFile(name);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid) && commandLine(pid).includes(marker)) return pid;
  rmSync(f, { force: true });
  return undefined;
}

export interface DaemonSpec {
  name: string;
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** A string that appears in the process's command line; guards against pid reuse. */
  marker: string;
}

/** Start a detached daemon with its output in logs/<name>.log and its pid in run/<name>.pid. */
export function startDaemon(spec: DaemonSpec): number {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const out = openSync(logFile(spec.name), 'a');
  const child = spawn(spec.cmd, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new OperatorError(`could not start ${spec.name} (${spec.cmd})`);
  child.unref();
  writeFileSync(pidFile(spec.name), `${child.pid}\n`);
  return child.pid;
}

/** Stop a daemon: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopDaemon(name: string, marker: string, graceMs = 10_000): Promise<boolean> {
  const pid = daemonPid(name, marker);
  if (pid === undefined) return false;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await delay(100);
  if (alive(pid)) killGroup(pid, 'SIGKILL');
  while (alive(pid)) await delay(50);
  rmSync(pidFile(name), { force: true });
  return true;
}

/** Kill a daemon abruptly (fault-injection in tests). */
export function killDaemon(name: string, marker: string): number | undefined {
  const pid = daemonPid(name, marker);
  if (pid !== undefined) killGroup(pid, 'SIGKILL');
  return pid;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // detached: the daemon leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Fail clearly when a port another program holds would make a node crash at start. */
export async function assertPortFree(host: string, port: number, owner: string): Promise<void> {
  const bindHost = ['127.0.0.1', 'localhost', '::1'].includes(host) ? host : '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new OperatorError(
          `port ${port} on ${host} is already in use (${e.code}); ${owner} needs it. ` +
            `Stop the program holding it (e.g. \`ss -ltnp 'sport = :${port}'\`) or change the port in MVSEC_TOPOLOGY.`,
        ),
      ),
    );
    srv.listen(port, bindHost, () => srv.close(() => resolve()));
  });
}

/** Whether something accepts TCP connections on host:port. */
export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: 1000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
