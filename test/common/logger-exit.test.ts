import type { ChildProcess } from 'node:child_process';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';

/**
 * A process logging to a pipe nobody reads any more still shuts down on SIGTERM: the log lines
 * are dropped (stderr says so), the exit code is the normal one. Before the fix the exit-time
 * log flush retried the failed write (EPIPE) every 100 ms forever.
 */

/** A bound far above a normal shutdown (well under a second): only a hang reaches it. */
const EXIT_BOUND_MS = 20_000;

/** The exit code, or a rejection if the process is still running after `boundMs`. */
function exitCode(child: ChildProcess, boundMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`still running ${boundMs} ms after SIGTERM`)),
      boundMs,
    );
    // 'close', not 'exit': stderr is complete by then.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function collectStderr(namesrv: RunningNamesrv): () => string {
  let stderr = '';
  namesrv.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return () => stderr;
}

let namesrv: RunningNamesrv | undefined;
afterEach(async () => {
  if (namesrv === undefined) return;
  await namesrv.kill();
  removeDir(namesrv.dataDir);
  namesrv = undefined;
});

test('with its stdout read, the shutdown log lines arrive and the exit code is 0', async () => {
  namesrv = await startNamesrv();
  const stderr = collectStderr(namesrv);
  expect(await namesrv.stop()).toBe(0);
  expect(namesrv.logs.map((l) => l.msg)).toEqual(
    expect.arrayContaining(['stopping', 'name server stopped']),
  );
  expect(stderr()).toBe('');
}, 30_000);

test('with its stdout reader gone, SIGTERM still ends the process with code 0', async () => {
  namesrv = await startNamesrv();
  const stderr = collectStderr(namesrv);
  // The only reader of the child's stdout closes its end: the child's next write gets EPIPE.
  namesrv.child.stdout!.destroy();
  const exited = exitCode(namesrv.child, EXIT_BOUND_MS);
  namesrv.child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(stderr()).toContain('log output (fd 1) failed: EPIPE; log lines are dropped');
}, 30_000);
