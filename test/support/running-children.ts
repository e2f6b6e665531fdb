import type { ChildProcess } from 'node:child_process';

/**
 * The child processes a test file started and has not seen exit yet. Kept on the test file's
 * global object, which is the jest environment's `global`, so the environment's teardown (after
 * every afterAll of the file) can kill what a failed setup left running.
 */
const KEY = Symbol.for('rocketmq-ts.test.runningChildren');

type WithChildren = { [KEY]?: Set<ChildProcess> };

export function runningChildren(global: object = globalThis): Set<ChildProcess> {
  const holder = global as WithChildren;
  return (holder[KEY] ??= new Set());
}

/** Tracks `child` until it exits. */
export function trackChild(child: ChildProcess): void {
  const running = runningChildren();
  running.add(child);
  child.once('exit', () => running.delete(child));
}
