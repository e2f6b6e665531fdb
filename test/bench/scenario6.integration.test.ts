import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Scenario 6 end to end, as `npm run bench:scenario6` runs it (compiled, in dist/), with a tiny
 * backlog and short phases: it fills, tries to drop the page cache, produces alone, then
 * consumes from the start while producing, prints its summary and removes its data. Checks the
 * plumbing, never the speed.
 */
const SCENARIO6 = resolve(__dirname, '../../dist/bench/scenario6.js');

test('bench:scenario6 fills a backlog, catches up on it while producing, and cleans up', () => {
  const parent = mkdtempSync(join(tmpdir(), 'scenario6-test-'));
  try {
    const run = spawnSync(
      process.execPath,
      [
        SCENARIO6,
        '--backlogGiB=0.005',
        '--beforeSeconds=2',
        '--maxCatchupSeconds=20',
        '--window=16',
        '--keepPageCache',
        `--dataDir=${parent}`,
      ],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    expect(run.stderr).not.toMatch(/failed/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^backlog: 5\.1 MiB \(requested 5\.1 MiB\)$/m);
    expect(run.stdout).toMatch(/^page cache: kept \(--keepPageCache\)$/m);
    const lines = run.stdout.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]) as {
      bench: string;
      backlog: { writtenBytes: number; messages: number };
      before: { producerPerSec: number };
      catchUp: { consumerMBps: number; producerPerSec: number; caughtUp: boolean };
      errors: number;
    };
    expect(summary.bench).toBe('scenario6');
    expect(summary.backlog.writtenBytes).toBeGreaterThanOrEqual(0.005 * 1024 ** 3);
    expect(summary.backlog.messages).toBeGreaterThan(5000);
    expect(summary.before.producerPerSec).toBeGreaterThan(0);
    expect(summary.catchUp.consumerMBps).toBeGreaterThan(0);
    expect(summary.catchUp.caughtUp).toBe(true);
    expect(summary.errors).toBe(0);
    // Its own data folder is gone.
    expect(readdirSync(parent)).toEqual([]);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
