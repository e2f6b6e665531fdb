import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, UsageError, type ParsedArgs } from '../cli/args';
import { createLogger, type Logger } from '../common/logger';
import {
  COMPARED_SCENARIOS,
  DEFAULT_SETTINGS,
  isScenarioId,
  SCENARIOS,
  type ScenarioId,
  type ScenarioResult,
  type ScenarioSettings,
} from './load/scenarios';
import { DEFAULT_MACHINE_OPTIONS, formatMachine, measureMachine } from './machine';
import { formatComparison, type ComparisonRow } from './report';
import type { ScenarioSpec } from './run-scenario';
import { listOption, numberOption } from './options';
import { OUR_TARGET, TARGETS, targetNamed } from './targets/registry';
import type { Durability, RunningServer, TargetKind } from './targets/target';

interface CompareOptions {
  targets: TargetKind[];
  scenarios: ScenarioId[];
  settings: ScenarioSettings;
  /** Time of each machine-baseline test. */
  machineTestMs: number;
  dataDir: string;
  keepData: boolean;
  /**
   * Where our broker and every scenario process (the load generator's client) write V8 CPU
   * profiles (`--cpu-prof`), when asked for.
   */
  cpuProfileDir?: string;
}

const USAGE = `npm run bench:compare -- [options]   (node dist/bench/compare.js [options])

Runs scenarios 1, 3, 4, 5 against every target in one run and prints one table.
  --targets=a,b       targets to run (default all: ${TARGETS.map((t) => t.name).join(', ')})
  --scenarios=1,3,4,5 scenarios to run (2, batch send, only for rocketmq-ts)
  --duration=10       measured seconds per scenario      --warmup=2   unmeasured seconds first
  --size=1024         message bytes                      --window=128 in-flight sends (1, 2, 5)
  --producers=64      synchronous producers (3)          --rate=10000 msgs/s (4)
  --batchSize=32      messages per batch (2)
  --machineSeconds=3  time of each machine baseline test (disk bandwidth, fdatasync rate)
  --dataDir=DIR       servers keep data in a new folder under DIR (default ${tmpdir()})
  --keepData          leave that folder in place
  --cpuProf[=DIR]     our broker and the scenario processes run with node --cpu-prof, profiles in
                      DIR (default ./profiles); node dist/bench/profile-summary.js reads them
`;

function parseOptions(args: ParsedArgs): CompareOptions {
  const number = (key: string, fallback: number) => numberOption(args, key, fallback);
  const targetNames = listOption(args, 'targets');
  const targets = targetNames ? targetNames.map(targetNamed) : [...TARGETS];
  const scenarios = (listOption(args, 'scenarios') ?? COMPARED_SCENARIOS.map(String)).map(
    (text) => {
      const n = Number(text);
      if (!isScenarioId(n)) {
        throw new UsageError(
          `unknown scenario ${text}; known: ${Object.keys(SCENARIOS).join(', ')}`,
        );
      }
      return n;
    },
  );
  const dataDir = args.long.get('dataDir');
  const cpuProf = args.long.get('cpuProf');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return {
    targets,
    scenarios,
    settings: {
      durationMs: numberOption(args, 'duration', DEFAULT_SETTINGS.durationMs / 1000, 0.1) * 1000,
      warmupMs: numberOption(args, 'warmup', DEFAULT_SETTINGS.warmupMs / 1000, 0) * 1000,
      messageSize: number('size', DEFAULT_SETTINGS.messageSize),
      window: number('window', DEFAULT_SETTINGS.window),
      batchSize: number('batchSize', DEFAULT_SETTINGS.batchSize),
      syncProducers: number('producers', DEFAULT_SETTINGS.syncProducers),
      rate: number('rate', DEFAULT_SETTINGS.rate),
    },
    machineTestMs: numberOption(args, 'machineSeconds', 3, 0.1) * 1000,
    // A folder of our own inside the one given, so removing it never touches anything else.
    dataDir: mkdtempSync(join(dataDir ? resolve(dataDir) : tmpdir(), 'rmqts-bench-')),
    keepData: args.long.has('keepData'),
    cpuProfileDir:
      cpuProf === undefined ? undefined : resolve(cpuProf === 'true' ? 'profiles' : cpuProf),
  };
}

/** How long a server rests after scenario 1 before its idle memory is read. */
const IDLE_SETTLE_MS = 3000;

/** Servers running right now, so an interrupted run still stops them. */
const running = new Set<RunningServer>();

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.long.has('help')) {
    process.stdout.write(USAGE);
    return;
  }
  const options = parseOptions(args);
  const log = createLogger('bench', process.env.LOG_LEVEL ?? 'info', 'stderr');
  try {
    log.info({ dataDir: options.dataDir }, 'measuring the machine');
    const machine = measureMachine(options.dataDir, {
      ...DEFAULT_MACHINE_OPTIONS,
      testMs: options.machineTestMs,
    });
    log.info({ machine }, 'machine measured');
    const rows: ComparisonRow[] = [];
    for (const kind of options.targets) rows.push(...(await runTarget(kind, options, log)));
    rows.sort((a, b) => a.scenario - b.scenario);

    const ours = rows.some((r) => r.target === OUR_TARGET && r.result);
    process.stdout.write(`\n${formatMachine(machine)}\n\n${formatComparison(rows, OUR_TARGET)}`);
    if (!ours) {
      process.stdout.write(
        `  ${OUR_TARGET} is missing from this run: ratios need its row (see bench/targets/registry.ts).\n`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({ bench: 'compare', settings: options.settings, machine, rows })}\n`,
    );
  } finally {
    if (!options.keepData) rmSync(options.dataDir, { recursive: true, force: true });
  }
}

/** Every selected scenario against one target: its async server first, then its sync one. */
async function runTarget(
  kind: TargetKind,
  options: CompareOptions,
  log: Logger,
): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  const failAll = (scenarios: ScenarioId[], durability: string, error: string) => {
    for (const scenario of scenarios) rows.push({ scenario, target: kind.name, durability, error });
  };
  try {
    await kind.install(log);
  } catch (err) {
    log.error({ target: kind.name, err }, 'target unavailable');
    failAll(options.scenarios, '', (err as Error).message);
    return rows;
  }
  for (const durability of ['async', 'sync'] as const) {
    const scenarios = options.scenarios.filter((s) => SCENARIOS[s].durability === durability);
    if (scenarios.length === 0) continue;
    const workDir = join(options.dataDir, `${kind.name}-${durability}`);
    mkdirSync(workDir, { recursive: true });
    let server: RunningServer;
    try {
      server = await kind.start(durability, workDir, log, { cpuProfileDir: options.cpuProfileDir });
    } catch (err) {
      log.error({ target: kind.name, durability, err }, 'server did not start');
      failAll(scenarios, durability, (err as Error).message);
      continue;
    }
    running.add(server);
    try {
      for (const scenario of scenarios) {
        rows.push(await runScenarioProcess(kind, server, durability, scenario, options, log));
      }
    } finally {
      await server.stop();
      running.delete(server);
    }
  }
  return rows;
}

async function runScenarioProcess(
  kind: TargetKind,
  server: RunningServer,
  durability: Durability,
  scenario: ScenarioId,
  options: CompareOptions,
  log: Logger,
): Promise<ComparisonRow> {
  const row: ComparisonRow = { scenario, target: kind.name, durability: server.durabilityNote };
  const spec: ScenarioSpec = { scenario, endpoint: server.endpoint, settings: options.settings };
  log.info({ target: kind.name, durability, scenario }, 'scenario starting');
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, server.rss())), 500);
  try {
    const limitMs = options.settings.warmupMs + options.settings.durationMs + 60_000;
    row.result = await runChild(spec, limitMs, options.cpuProfileDir);
    row.serverRssBytes = Math.max(maxRss, server.rss());
    if (scenario === 1) {
      // The scenario 7: memory during scenario 1, and once the load has stopped.
      await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
      row.idleRssBytes = server.rss();
    }
    log.info({ target: kind.name, scenario, result: row.result }, 'scenario done');
  } catch (err) {
    row.error = (err as Error).message;
    log.error({ target: kind.name, scenario, err }, 'scenario failed');
  } finally {
    clearInterval(sampler);
  }
  return row;
}

/** Runs bench/run-scenario.js in a child process and parses its one JSON line. */
function runChild(
  spec: ScenarioSpec,
  limitMs: number,
  cpuProfileDir: string | undefined,
): Promise<ScenarioResult> {
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  return new Promise((resolveResult, reject) => {
    const child = spawn(
      process.execPath,
      [...profile, join(__dirname, 'run-scenario.js'), JSON.stringify(spec)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop();
      if (code === 0 && last) {
        try {
          return resolveResult(JSON.parse(last) as ScenarioResult);
        } catch {
          // fall through to the error below, with the output for diagnosis
        }
      }
      const reason = stderr.trim().split('\n').pop() ?? '';
      reject(new Error(`scenario process ended with ${signal ?? code}: ${reason}`));
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping servers\n`);
    void Promise.all([...running].map((s) => s.stop())).finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const usage = err instanceof UsageError ? `\n\n${USAGE}` : '';
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bench:compare failed: ${message}${usage}\n`);
    void Promise.all([...running].map((s) => s.stop())).finally(() => process.exit(1));
  },
);
