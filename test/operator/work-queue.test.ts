import { WorkQueue } from '../../operator/controller/work-queue';

const tick = () => new Promise((r) => setTimeout(r, 5));

test('a key queued many times runs once; a key re-added while running runs again after', async () => {
  const runs: string[] = [];
  let release: () => void = () => undefined;
  const queue = new WorkQueue(
    async (key) => {
      runs.push(key);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
    },
    () => undefined,
    { concurrency: 1, baseDelayMs: 10, maxDelayMs: 100 },
  );
  queue.add('a');
  await tick();
  queue.add('a'); // in flight: remembered, not run in parallel
  queue.add('a');
  queue.add('b');
  queue.add('b');
  await tick();
  expect(runs).toEqual(['a']);
  expect(queue.length).toBe(1); // b, once
  release();
  await queue.idle();
  expect(runs).toEqual(['a', 'b', 'a']);
  queue.stop();
});

test('failures retry with exponential backoff, and success forgets the count', async () => {
  const attempts: number[] = [];
  const errors: number[] = [];
  let failuresLeft = 3;
  const queue = new WorkQueue(
    async () => {
      attempts.push(Date.now());
      if (failuresLeft-- > 0) throw new Error('boom');
    },
    (_key, _err, retryInMs) => errors.push(retryInMs),
    { concurrency: 1, baseDelayMs: 20, maxDelayMs: 50 },
  );
  queue.add('k');
  while (attempts.length < 4) await tick();
  expect(errors).toEqual([20, 40, 50]);
  expect(attempts[3] - attempts[2]).toBeGreaterThanOrEqual(45);
  expect(queue.backoff(1)).toBe(20);
  expect(queue.backoff(10)).toBe(50);
  queue.stop();
});

test('requeueAfter schedules another run; stop cancels it', async () => {
  let runs = 0;
  const queue = new WorkQueue(
    async () => (++runs === 1 ? { requeueAfterMs: 10 } : undefined),
    () => undefined,
    {
      concurrency: 1,
      baseDelayMs: 10,
      maxDelayMs: 10,
    },
  );
  queue.add('k');
  while (runs < 2) await tick();
  queue.add('k');
  queue.stop();
  queue.add('k');
  await tick();
  expect(runs).toBeGreaterThanOrEqual(2);
  expect(queue.length).toBe(0);
});

test('of two delays for one key the sooner wins, whichever was asked first', async () => {
  const runs: number[] = [];
  const queue = new WorkQueue(
    async () => {
      runs.push(Date.now());
    },
    () => undefined,
    { concurrency: 1, baseDelayMs: 10, maxDelayMs: 10 },
  );
  const start = Date.now();
  queue.addAfter('k', 60_000); // a periodic refresh
  queue.addAfter('k', 20); // a step that must run soon
  queue.addAfter('k', 30_000); // later than the pending one: ignored
  while (runs.length < 1) await tick();
  expect(runs[0] - start).toBeLessThan(5_000);
  queue.stop();
});
