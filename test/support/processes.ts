import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { trackChild } from './running-children';

/** The compiled CLI; `npm test` builds it before jest runs. */
export const CLI = resolve(__dirname, '../../dist/cli/index.js');

/** Makes a started process (and the node processes it starts) exit when its parent is gone. */
const DIE_WITH_PARENT = resolve(__dirname, '../../dist/test/support/die-with-parent.js');

/** `env` for a child node process: the die-with-parent preload added to NODE_OPTIONS. */
function childNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const options = [env.NODE_OPTIONS, `--require=${DIE_WITH_PARENT}`].filter(Boolean).join(' ');
  return { ...env, NODE_OPTIONS: options };
}

export interface RunningProcess {
  child: ChildProcess;
  /** Parsed pino lines the process printed so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line matching `predicate`. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childNodeEnv({ ...process.env, LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Killed by the jest environment's teardown if the test file does not stop it.
  trackChild(child);
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': it comes after the last stdout line, so `logs` is complete by then.
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));

  return {
    child,
    logs,
    waitForLog(predicate, timeoutMs = 15_000) {
      const found = logs.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            res(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          rej(new Error(`process exited with ${code} before the log line; stderr: ${stderr}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RunningNamesrv extends RunningProcess {
  addr: string;
  httpPort: number;
  dataDir: string;
}

/** A real name server process on free loopback ports, with its own data directory. */
export async function startNamesrv(
  flags: Record<string, string | number> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'rmqts-namesrv-')),
): Promise<RunningNamesrv> {
  const args = Object.entries({
    listenPort: 0,
    httpPort: 0,
    bindAddress: '127.0.0.1',
    kvConfigPath: join(dataDir, 'kvConfig.json'),
    ...flags,
  }).map(([k, v]) => `--${k}=${v}`);
  const proc = startCli(['namesrv', ...args]);
  const started = await proc.waitForLog((l) => l.msg === 'name server started');
  return {
    ...proc,
    addr: `127.0.0.1:${started.port as number}`,
    httpPort: started.httpPort as number,
    dataDir,
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
