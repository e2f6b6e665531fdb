import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';

/** A server program the benchmark started, in its own process group, logging to a file. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exited: Promise<string>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr go here (appended), so a failed start can be diagnosed. */
  logFile: string;
}

export function startServerProcess(
  name: string,
  command: string,
  args: string[],
  options: StartOptions,
): ServerProcess {
  const out = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group, so stop() reaches the helpers it forks (RabbitMQ's
    // Erlang VM starts several) and a Ctrl-C on the benchmark does not hit it twice.
    child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', out, out],
      detached: true,
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    async stop(graceMs = 15_000) {
      if (!running()) return;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Helpers left in the group (a forked child that outlived its parent) go too.
      signalGroup(pid, 'SIGKILL');
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Resolves with the first JSON log line (pino) of `server` that `predicate` accepts, read
 * from its log file; rejects if the server exits first or time runs out.
 */
export async function waitForLogLine(
  server: ServerProcess,
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void server.exited.then((how) => (exitedWith = how));
  while (Date.now() < deadline) {
    for (const text of readFileSync(server.logFile, 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (predicate(line)) return line;
      } catch {
        // a line still being written, or not JSON
      }
    }
    if (exitedWith !== undefined) {
      throw new Error(`${server.name} exited (${exitedWith}); see ${server.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${server.name}: expected log line not seen in ${timeoutMs} ms; see ${server.logFile}`,
  );
}

/** Resolves once `port` accepts connections; rejects if `server` exits first or time runs out. */
export async function waitForPort(
  server: ServerProcess,
  port: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void server.exited.then((how) => (exitedWith = how));
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) {
      throw new Error(
        `${server.name} exited (${exitedWith}) before listening; see ${server.logFile}`,
      );
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${server.name} did not listen on ${port} within ${timeoutMs} ms; see ${server.logFile}`,
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resident memory of `pid` and all its descendants, in bytes (Linux /proc). */
export function processTreeRss(pid: number): number {
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop()!;
    try {
      const status = readFileSync(`/proc/${current}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (match) total += Number(match[1]) * 1024;
      // Children are listed per thread: a child forked from any thread counts.
      for (const task of readdirSync(`/proc/${current}/task`)) {
        const children = readFileSync(`/proc/${current}/task/${task}/children`, 'utf8');
        for (const child of children.split(' ')) if (child.trim()) pending.push(Number(child));
      }
    } catch {
      // The process ended between listing and reading: it holds no memory any more.
    }
  }
  return total;
}
