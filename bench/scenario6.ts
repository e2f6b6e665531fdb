/**
 * Scenario 6 of the benchmark issue, the backlog: fill our broker (ASYNC_FLUSH, 1 KiB
 * messages, one topic of 8 queues) with a backlog several times larger than the page cache
 * could keep, drop the page cache when the kernel lets us, then consume the topic from its
 * first offset while producing, and print consumer MB/s and producer msgs/s before and during
 * the catch-up, every second and as a JSON summary line.
 *
 *   npm run bench:scenario6 -- [options]   (node dist/bench/scenario6.js [options])
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, UsageError, type ParsedArgs } from '../cli/args';
import { createLogger, type Logger } from '../common/logger';
import { chooseBacklog, DEFAULT_SIZING, measureRoom, type BacklogChoice } from './backlog/sizing';
import type { WorkerSpec, WorkerTotals } from './backlog/worker';
import { WorkerProcess } from './backlog/worker-process';
import { numberOption } from './options';
import { createBenchTopic, rocketmqTsTarget } from './targets/rocketmq-ts';
import type { RunningServer } from './targets/target';

const GiB = 1024 ** 3;
const MB = 1e6;

const USAGE = `npm run bench:scenario6 -- [options]   (node dist/bench/scenario6.js [options])

Backlog: fill our broker with a backlog the page cache cannot keep (3 × MemAvailable, capped so
that 30% of the disk stays free), drop the page cache if allowed, then consume from the start
while producing.
  --backlogGiB=N        backlog size instead of 3 × MemAvailable (still capped by the disk)
  --maxFillSeconds=600  stop filling after this long (the backlog is then what was written)
  --beforeSeconds=10    producing alone, before the consumer starts
  --maxCatchupSeconds=300  give up the catch-up after this long
  --window=128          producer sends in flight       --fillBatch=32  messages per fill send
  --size=1024           message bytes
  --dataDir=DIR         the broker's data goes in a new folder under DIR (default ${tmpdir()})
  --keepData            leave that folder in place
  --keepPageCache       do not drop the page cache (it is the whole machine's)
  --cpuProf[=DIR]       the broker and the workers run with node --cpu-prof (default ./profiles)
`;

interface Options {
  requestedBytes?: number;
  maxFillMs: number;
  beforeMs: number;
  maxCatchupMs: number;
  window: number;
  fillBatch: number;
  messageSize: number;
  dataDir: string;
  keepData: boolean;
  keepPageCache: boolean;
  cpuProfileDir?: string;
}

function parseOptions(args: ParsedArgs): Options {
  const gib = args.long.get('backlogGiB');
  const dataDir = args.long.get('dataDir');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const cpuProf = args.long.get('cpuProf');
  return {
    requestedBytes:
      gib === undefined ? undefined : Math.floor(numberOption(args, 'backlogGiB', 1, 0.001) * GiB),
    maxFillMs: numberOption(args, 'maxFillSeconds', 600) * 1000,
    beforeMs: numberOption(args, 'beforeSeconds', 10) * 1000,
    maxCatchupMs: numberOption(args, 'maxCatchupSeconds', 300) * 1000,
    window: numberOption(args, 'window', 128),
    fillBatch: numberOption(args, 'fillBatch', 32),
    messageSize: numberOption(args, 'size', 1024, 8),
    // A folder of our own inside the one given, so removing it never touches anything else.
    dataDir: mkdtempSync(join(dataDir ? resolve(dataDir) : tmpdir(), 'rmqts-backlog-')),
    keepData: args.long.has('keepData'),
    keepPageCache: args.long.has('keepPageCache'),
    cpuProfileDir:
      cpuProf === undefined ? undefined : resolve(cpuProf === 'true' ? 'profiles' : cpuProf),
  };
}

/** One second of the run, as printed. */
interface Interval {
  phase: 'fill' | 'before' | 'catch-up';
  seconds: number;
  producerPerSec: number;
  consumerPerSec: number;
  consumerMBps: number;
  /** Messages stored but not yet consumed. */
  lag: number;
}

/** Averages of a phase. */
interface PhaseFigures {
  seconds: number;
  producerPerSec: number;
  consumerPerSec: number;
  consumerMBps: number;
}

export interface BacklogSummary {
  bench: 'scenario6';
  backlog: BacklogChoice & { writtenBytes: number; messages: number; fillSeconds: number };
  pageCacheDropped: boolean;
  pageCacheNote: string;
  before: PhaseFigures;
  catchUp: PhaseFigures & { caughtUp: boolean; lagAtEnd: number };
  /** Consumer MB/s over the first seconds of the catch-up, when its reads are coldest. */
  coldStartMBps: number;
  errors: number;
  brokerRssBytes: number;
}

const COLD_START_SECONDS = 5;
const FILL_PRINT_EVERY = 10;
const TICK_MS = 1000;

const running = new Set<WorkerProcess | RunningServer>();
/** The run's data folder, removed however the run ends (unless --keepData). */
let dataDirToRemove: string | undefined;

function removeData(): void {
  if (dataDirToRemove) rmSync(dataDirToRemove, { recursive: true, force: true });
  dataDirToRemove = undefined;
}

/** Kills the workers and stops the servers of an interrupted run, removes its data, exits. */
function abandon(code: number): void {
  for (const r of running) if (r instanceof WorkerProcess) r.kill();
  const servers = [...running].filter((r): r is RunningServer => !(r instanceof WorkerProcess));
  void Promise.all(servers.map((s) => s.stop())).finally(() => {
    removeData();
    process.exit(code);
  });
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.long.has('help')) {
    process.stdout.write(USAGE);
    return;
  }
  const options = parseOptions(args);
  if (!options.keepData) dataDirToRemove = options.dataDir;
  const log = createLogger('bench', process.env.LOG_LEVEL ?? 'info', 'stderr');
  try {
    const summary = await runBacklog(options, log);
    process.stdout.write(`${formatSummary(summary)}\n${JSON.stringify(summary)}\n`);
  } finally {
    removeData();
  }
}

async function runBacklog(options: Options, log: Logger): Promise<BacklogSummary> {
  const choice = chooseBacklog(measureRoom(options.dataDir), {
    ...DEFAULT_SIZING,
    requestedBytes: options.requestedBytes,
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`backlog: ${formatBytes(choice.bytes)} (${choice.reason})`);
  if (choice.bytes < options.messageSize * 1000) {
    throw new Error('the disk has no room for a backlog while keeping 30% of it free');
  }
  const workDir = join(options.dataDir, 'rocketmq-ts');
  mkdirSync(workDir, { recursive: true });
  const server = await rocketmqTsTarget.start('async', workDir, log, {
    cpuProfileDir: options.cpuProfileDir,
  });
  running.add(server);
  let maxRss = 0;
  const rssSampler = setInterval(() => (maxRss = Math.max(maxRss, server.rss())), 1000);
  try {
    const topic = `BenchBacklog_${process.pid}_${Date.now()}`;
    await createBenchTopic(server.endpoint, topic, log);
    const nodeArgs = options.cpuProfileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]
      : [];
    const spec: WorkerSpec = {
      role: 'produce',
      namesrvAddr: server.endpoint.options.namesrvAddr,
      topic,
      messageSize: options.messageSize,
      batchSize: 1,
      window: options.window,
    };
    const start = (s: WorkerSpec) => {
      const worker = new WorkerProcess(s, nodeArgs);
      running.add(worker);
      return worker;
    };
    const printer = new IntervalPrinter(say);

    // 1. The backlog, as fast as batches go.
    const fillStarted = performance.now();
    const filler = start({
      ...spec,
      batchSize: options.fillBatch,
      stopAfterBytes: choice.bytes,
    });
    await sampleUntil(options.maxFillMs, printer, 'fill', filler, undefined, 0);
    const filled = await filler.stop();
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    say(
      `filled ${formatBytes(filled.bytes)} (${filled.messages} messages) in ` +
        `${fillSeconds.toFixed(0)} s` +
        (filled.bytes < choice.bytes ? ` (stopped by --maxFillSeconds)` : ''),
    );

    // 2. Make the backlog cold.
    const dropped = options.keepPageCache
      ? { ok: false, note: 'kept (--keepPageCache)' }
      : dropPageCache();
    say(`page cache: ${dropped.note}`);

    // 3. Producing alone, then 4. consuming from the start while producing.
    const producer = start(spec);
    const before = await sampleUntil(
      options.beforeMs,
      printer,
      'before',
      producer,
      undefined,
      filled.messages,
    );
    const consumer = start({ ...spec, role: 'consume', group: `BenchBacklogConsumer_${topic}` });
    const catchUp = await sampleUntil(
      options.maxCatchupMs,
      printer,
      'catch-up',
      producer,
      consumer,
      filled.messages,
      (last) => last.lag <= options.window,
    );
    const [produced, consumed] = await Promise.all([producer.stop(), consumer.stop()]);
    const lagAtEnd = filled.messages + produced.messages - consumed.messages;
    return {
      bench: 'scenario6',
      backlog: {
        ...choice,
        writtenBytes: filled.bytes,
        messages: filled.messages,
        fillSeconds,
      },
      pageCacheDropped: dropped.ok,
      pageCacheNote: dropped.note,
      before: average(before.intervals),
      catchUp: {
        ...average(catchUp.intervals),
        caughtUp: catchUp.stoppedEarly,
        lagAtEnd: Math.max(0, lagAtEnd),
      },
      coldStartMBps: average(catchUp.intervals.slice(0, COLD_START_SECONDS)).consumerMBps,
      errors: filled.errors + produced.errors + consumed.errors,
      brokerRssBytes: Math.max(maxRss, server.rss()),
    };
  } finally {
    clearInterval(rssSampler);
    for (const r of running) if (r instanceof WorkerProcess) r.kill();
    await server.stop();
    running.clear();
  }
}

/** Writes 1 to drop_caches after a sync: clean page cache goes, so the backlog is read from disk. */
function dropPageCache(): { ok: boolean; note: string } {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return { ok: true, note: 'dropped (sync; echo 1 > /proc/sys/vm/drop_caches)' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      ok: false,
      note: `could not drop it (${code}); the backlog's size alone keeps most of it out`,
    };
  }
}

/** Prints one line per interval, with a header the first time. */
class IntervalPrinter {
  private headerDone = false;

  constructor(private readonly say: (line: string) => void) {}

  print(i: Interval): void {
    if (!this.headerDone) {
      this.say('phase      sec  producer msgs/s  consumer msgs/s  consumer MB/s  lag msgs');
      this.headerDone = true;
    }
    this.say(
      `${i.phase.padEnd(9)} ${i.seconds.toFixed(0).padStart(4)}  ${i.producerPerSec.toFixed(0).padStart(15)}` +
        `  ${i.consumerPerSec.toFixed(0).padStart(15)}  ${i.consumerMBps.toFixed(1).padStart(13)}` +
        `  ${i.lag.toFixed(0).padStart(8)}`,
    );
  }
}

/**
 * Samples the workers' totals every second for at most `limitMs`, printing each interval;
 * stops early once `done` (given the last interval) holds.
 */
async function sampleUntil(
  limitMs: number,
  printer: IntervalPrinter,
  phase: Interval['phase'],
  producer: WorkerProcess,
  consumer: WorkerProcess | undefined,
  backlogMessages: number,
  done?: (last: Interval) => boolean,
): Promise<{ intervals: Interval[]; stoppedEarly: boolean }> {
  const intervals: Interval[] = [];
  const started = performance.now();
  let lastProduced: WorkerTotals = { ...producer.totals };
  let lastConsumed: WorkerTotals = {
    ...(consumer?.totals ?? { messages: 0, bytes: 0, errors: 0 }),
  };
  let lastAt = started;
  let finished = false;
  while (performance.now() - started < limitMs) {
    await new Promise((r) => setTimeout(r, TICK_MS));
    const now = performance.now();
    const secs = (now - lastAt) / 1000;
    const produced = producer.totals;
    const consumed = consumer?.totals ?? lastConsumed;
    const interval: Interval = {
      phase,
      seconds: (now - started) / 1000,
      producerPerSec: (produced.messages - lastProduced.messages) / secs,
      consumerPerSec: (consumed.messages - lastConsumed.messages) / secs,
      consumerMBps: (consumed.bytes - lastConsumed.bytes) / MB / secs,
      // Totals arrive from two processes at different moments: never show a negative lag.
      lag: consumer ? Math.max(0, backlogMessages + produced.messages - consumed.messages) : 0,
    };
    intervals.push(interval);
    lastProduced = { ...produced };
    lastConsumed = { ...consumed };
    lastAt = now;
    // The fill's producer ends by itself: its last totals say so.
    finished = produced.final === true || done?.(interval) === true;
    // A long fill prints every FILL_PRINT_EVERY seconds, the other phases every second.
    if (phase !== 'fill' || finished || intervals.length % FILL_PRINT_EVERY === 0) {
      printer.print(interval);
    }
    if (finished) break;
  }
  return { intervals, stoppedEarly: finished };
}

function average(intervals: Interval[]): PhaseFigures {
  const n = intervals.length;
  const sum = (pick: (i: Interval) => number) =>
    n === 0 ? 0 : intervals.reduce((s, i) => s + pick(i), 0) / n;
  return {
    seconds: n === 0 ? 0 : intervals[n - 1].seconds,
    producerPerSec: sum((i) => i.producerPerSec),
    consumerPerSec: sum((i) => i.consumerPerSec),
    consumerMBps: sum((i) => i.consumerMBps),
  };
}

function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function formatSummary(s: BacklogSummary): string {
  const f = (n: number) => n.toFixed(0);
  return [
    '',
    `scenario 6 (backlog ${formatBytes(s.backlog.writtenBytes)}, ${s.backlog.messages} messages; ` +
      `page cache ${s.pageCacheDropped ? 'dropped' : 'not dropped'})`,
    `  before the catch-up: producer ${f(s.before.producerPerSec)} msgs/s`,
    `  during the catch-up: producer ${f(s.catchUp.producerPerSec)} msgs/s, consumer ` +
      `${f(s.catchUp.consumerPerSec)} msgs/s = ${s.catchUp.consumerMBps.toFixed(1)} MB/s ` +
      `(first ${COLD_START_SECONDS} s: ${s.coldStartMBps.toFixed(1)} MB/s)`,
    `  ${s.catchUp.caughtUp ? 'caught up' : 'did not catch up'} after ${f(s.catchUp.seconds)} s` +
      (s.catchUp.caughtUp ? '' : ` (lag ${s.catchUp.lagAtEnd} messages)`) +
      `; errors ${s.errors}; broker RSS peak ${f(s.brokerRssBytes / 2 ** 20)} MiB`,
  ].join('\n');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping\n`);
    abandon(130);
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const usage = err instanceof UsageError ? `\n\n${USAGE}` : '';
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bench:scenario6 failed: ${message}${usage}\n`);
    abandon(1);
  },
);
