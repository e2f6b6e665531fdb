import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The comparison end to end, as `npm run bench:compare` runs it (compiled, in dist/), kept
 * short: our broker (namesrv + broker processes) and Redis (installed from Debian if missing),
 * scenarios 1 and 5 for half a second each. Checks the plumbing, never the speed.
 */
const COMPARE = resolve(__dirname, '../../dist/bench/compare.js');

test('bench:compare runs our broker and a peer and prints one table and a JSON line', () => {
  const run = spawnSync(
    process.execPath,
    [
      COMPARE,
      '--targets=rocketmq-ts,redis',
      '--scenarios=1,5',
      '--duration=0.5',
      '--warmup=0.2',
      '--machineSeconds=0.2',
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  expect(run.stderr).not.toMatch(/failed/);
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]) as {
    machine: { bufferedWriteMiBps: number; fdatasyncPerSec: number };
    rows: {
      scenario: number;
      target: string;
      result?: { sentPerSec: number; errors: number; consumedPerSec?: number };
    }[];
  };
  expect(summary.machine.bufferedWriteMiBps).toBeGreaterThan(0);
  expect(summary.machine.fdatasyncPerSec).toBeGreaterThan(0);
  expect(summary.rows.map((r) => `${r.scenario} ${r.target}`)).toEqual([
    '1 rocketmq-ts',
    '1 redis',
    '5 rocketmq-ts',
    '5 redis',
  ]);
  for (const row of summary.rows) {
    expect(row.result?.errors).toBe(0);
    expect(row.result?.sentPerSec).toBeGreaterThan(0);
    if (row.scenario === 5) expect(row.result?.consumedPerSec).toBeGreaterThan(0);
  }
  expect(run.stdout).toMatch(/^1\s+redis\s+AOF appendfsync everysec\s+\d+\s.*\d+\.\d\dx$/m);
  expect(run.stdout).toContain('machine (disk under');
});
