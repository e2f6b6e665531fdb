import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerSpec, WorkerTotals } from './worker';

/** A backlog worker (worker.ts) running as a child process, with its latest printed totals. */
export class WorkerProcess {
  totals: WorkerTotals = { messages: 0, bytes: 0, errors: 0 };
  /** Resolves when the process has exited; rejects if it failed. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(spec: WorkerSpec, nodeArgs: readonly string[] = []) {
    this.child = spawn(
      process.execPath,
      [...nodeArgs, join(__dirname, 'worker.js'), JSON.stringify(spec)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let partial = '';
    let stderr = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) this.totals = JSON.parse(line) as WorkerTotals;
    });
    this.child.stderr!.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)),
    );
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else {
          const reason = stderr.trim().split('\n').pop() ?? '';
          reject(new Error(`${spec.role} worker ended with ${signal ?? code}: ${reason}`));
        }
      });
    });
  }

  /** Asks the worker to stop (SIGTERM) and waits for its final totals. */
  async stop(): Promise<WorkerTotals> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
    return this.totals;
  }

  /** Ends the worker at once (an interrupted run). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
