import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../operator/kube-wait';
import { trackChild } from './running-children';

/**
 * Nothing a test starts outlives it: a fixture test file starts a real name server and fails its
 * setup without stopping it, in a jest of its own; afterwards the name server must be gone.
 */

const ROOT = resolve(__dirname, '../..');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rmqts-reaping-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs leaky-setup.fixture.ts in-band in a jest child process. */
function runFixture(mode: 'throw' | 'hang') {
  const pidFile = join(dir, 'namesrv.pid');
  const child = spawn(
    process.execPath,
    [JEST, '--runInBand', '--ci', '--testMatch', '**/fixtures/leaky-setup.fixture.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, RMQTS_LEAK_MODE: mode, RMQTS_LEAK_PID_FILE: pidFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackChild(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  return { child, pidFile, exited, output: () => output };
}

/** Alive and not a zombie waiting for a parent to reap it (Linux /proc). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a setup that throws after starting a name server leaves no process behind', async () => {
  const run = runFixture('throw');
  expect(await run.exited).toBe(1);
  expect(run.output()).toContain('setup failed after starting a name server');
  expect(run.output()).toMatch(/killing 1 child process\(es\) the test file left running/);
  const pid = Number(readFileSync(run.pidFile, 'utf8'));
  expect(pid).toBeGreaterThan(0);
  expect(isRunning(pid)).toBe(false);
}, 120_000);

test('a name server whose jest is SIGKILLed mid-setup exits by itself', async () => {
  const run = runFixture('hang');
  await eventually('name server started', () => existsSync(run.pidFile), 60_000);
  const pid = Number(readFileSync(run.pidFile, 'utf8'));
  expect(isRunning(pid)).toBe(true);
  run.child.kill('SIGKILL'); // no teardown runs: only the die-with-parent preload can help
  await run.exited;
  await eventually('orphaned name server gone', () => !isRunning(pid), 15_000);
}, 120_000);
