import type { ChildProcess } from 'node:child_process';
import { TestEnvironment } from 'jest-environment-node';
import { runningChildren } from './running-children';

const EXIT_WAIT_MS = 5_000;

/**
 * jest's node environment, plus: when a test file is done (after all its afterAll hooks), every
 * child process it started and did not stop is killed, so a setup that threw halfway leaves no
 * namesrv or broker behind. Waits for each exit briefly and never longer, so jest cannot hang.
 */
export default class ReapingEnvironment extends TestEnvironment {
  override async teardown(): Promise<void> {
    const leftovers = [...runningChildren(this.global)];
    if (leftovers.length > 0) {
      process.stderr.write(
        `killing ${leftovers.length} child process(es) the test file left running: ` +
          `${leftovers.map((c) => c.pid).join(', ')}\n`,
      );
      await Promise.all(leftovers.map(killAndWait));
    }
    await super.teardown();
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, EXIT_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (!child.kill('SIGKILL') || child.exitCode !== null || child.signalCode !== null) {
      clearTimeout(timer);
      resolve();
    }
  });
}
