/**
 * `npm run bench:ha`: replication and failover figures on this machine.
 *
 * 1. Send throughput and latency of a two-broker group (master + slave, real processes) with
 *    SYNC_MASTER next to ASYNC_MASTER: `--producers` producers keep `--window` sends each in
 *    flight for `--duration` seconds.
 * 2. Failover: under the same load, SIGKILL the master `--kills` times and time the kill to the
 *    first write acknowledged by the new master (median and worst).
 *
 * Options: --duration=10 --producers=4 --window=16 --size=1024 --kills=5 --detectionTime=2000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HaAdminClient } from '../client/ha-admin';
import { Producer } from '../client/producer';
import { createLogger } from '../common/logger';
import { decodeOffsetMsgId } from '../common/message/message-id';
import { RemotingClient } from '../common/net/client';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import type { HaStatus } from '../common/protocol/ha-bodies';
import { CreateTopicRequestHeader } from '../common/protocol/headers';
import { FailoverController } from '../failover/controller';
import { FileStateStore } from '../failover/state-store';
import { LatencyHistogram } from './stats/latency-histogram';
import { freeBrokerPort, freePort } from '../common/net/free-port';
import { type ServerProcess, startServerProcess, waitForLogLine } from './system/server-process';

const CLI = resolve(__dirname, '../cli/index.js');
const TOPIC = 'BenchHa';
const silent = createLogger('bench-ha', 'silent');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Options {
  durationSec: number;
  producers: number;
  window: number;
  size: number;
  kills: number;
  detectionTimeMs: number;
}

function parseOptions(argv: string[]): Options {
  const get = (key: string, fallback: number) => {
    const arg = argv.find((a) => a.startsWith(`--${key}=`));
    const n = arg === undefined ? fallback : Number(arg.slice(key.length + 3));
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} must be a number ≥ 0`);
    return n;
  };
  return {
    durationSec: get('duration', 10),
    producers: get('producers', 4),
    window: get('window', 16),
    size: get('size', 1024),
    kills: get('kills', 5),
    detectionTimeMs: get('detectionTime', 2000),
  };
}

interface Broker {
  port: number;
  dataDir: string;
  slaveId: number;
  proc?: ServerProcess;
}

/** A name server and a master + slave group under a failover controller. */
class BenchGroup {
  readonly ha = new HaAdminClient(silent, 500);
  readonly brokers: Broker[] = [];
  private namesrv?: ServerProcess;
  namesrvAddr = '';
  private controller?: FailoverController;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rmqts-bench-ha-'));

  constructor(private readonly masterRole: 'SYNC_MASTER' | 'ASYNC_MASTER') {}

  async start(detectionTimeMs: number): Promise<void> {
    const port = await freePort();
    this.namesrvAddr = `127.0.0.1:${port}`;
    this.namesrv = startServerProcess(
      'namesrv',
      process.execPath,
      [
        CLI,
        'namesrv',
        `--listenPort=${port}`,
        '--httpPort=0',
        `--kvConfigPath=${join(this.dir, 'kv.json')}`,
      ],
      { logFile: join(this.dir, 'namesrv.log') },
    );
    await waitForLogLine(this.namesrv, (l) => l.msg === 'name server started');
    for (let i = 0; i < 2; i++) {
      const b: Broker = {
        port: await freeBrokerPort(),
        dataDir: join(this.dir, `b${i}`),
        slaveId: i + 1,
      };
      this.brokers.push(b);
      await this.startBroker(b);
    }
    this.controller = new FailoverController(
      {
        brokerName: 'bench-a',
        members: this.brokers.map((b) => ({ addr: addr(b), slaveId: b.slaveId })),
        masterRole: this.masterRole,
      },
      {
        admin: this.ha,
        stateStore: new FileStateStore(this.dir),
        logger: silent,
        detectionTimeMs,
        probeIntervalMs: 250,
      },
    );
    await this.controller.start();
    const remoting = new RemotingClient({ logger: silent });
    try {
      for (const b of this.brokers) await createTopic(remoting, addr(b));
    } finally {
      remoting.close();
    }
    await this.waitForSteadyGroup(0);
  }

  async startBroker(b: Broker): Promise<void> {
    b.proc = startServerProcess(
      `broker-${b.slaveId}`,
      process.execPath,
      [
        CLI,
        'broker',
        '--brokerName=bench-a',
        `--brokerId=${b.slaveId}`,
        '--brokerRole=SLAVE',
        '--enableControllerMode=true',
        `--namesrvAddr=${this.namesrvAddr}`,
        '--brokerIP1=127.0.0.1',
        '--bindAddress=127.0.0.1',
        `--listenPort=${b.port}`,
        '--httpPort=0',
        '--registerNameServerPeriod=1000',
        `--storePathRootDir=${b.dataDir}`,
      ],
      { logFile: join(this.dir, `broker-${b.slaveId}.log`) },
    );
    await waitForLogLine(b.proc, (l) => l.msg === 'broker started' && l.pid === b.proc?.pid);
  }

  /** Each broker's HA status, undefined for one that does not answer. */
  private statuses(): Promise<(HaStatus | undefined)[]> {
    return Promise.all(this.brokers.map((b) => this.ha.status(addr(b)).catch(() => undefined)));
  }

  /** Waits until some broker is master in an epoch above `afterEpoch`. */
  async waitForMaster(afterEpoch: number): Promise<void> {
    for (let i = 0; i < 400; i++) {
      const statuses = await this.statuses();
      if (statuses.some((s) => s?.role === 'MASTER' && s.epoch > afterEpoch)) return;
      await sleep(50);
    }
    throw new Error(`no master above epoch ${afterEpoch} within 20 s`);
  }

  /** Waits for a master above `afterEpoch` whose slave follows it; returns it and its epoch. */
  async waitForSteadyGroup(afterEpoch: number): Promise<{ master: Broker; epoch: number }> {
    for (let i = 0; i < 400; i++) {
      const statuses = await this.statuses();
      const m = statuses.findIndex((s) => s?.role === 'MASTER' && s.epoch > afterEpoch);
      if (m >= 0) {
        const epoch = statuses[m]!.epoch;
        const followed = statuses.every(
          (s, i) => i === m || (s?.role === 'SLAVE' && s.epoch === epoch),
        );
        if (followed) return { master: this.brokers[m], epoch };
      }
      await sleep(50);
    }
    throw new Error('the group did not settle within 20 s');
  }

  async stop(): Promise<void> {
    await this.controller?.stop();
    this.ha.close();
    for (const b of this.brokers) await b.proc?.stop();
    await this.namesrv?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const addr = (b: Broker) => `127.0.0.1:${b.port}`;

async function createTopic(remoting: RemotingClient, brokerAddr: string): Promise<void> {
  const response = await remoting.invoke(
    brokerAddr,
    createRequest(
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      CreateTopicRequestHeader.encode({
        topic: TOPIC,
        defaultTopic: 'TBW102',
        readQueueNums: 8,
        writeQueueNums: 8,
        perm: 6,
        topicFilterType: 'SINGLE_TAG',
        order: false,
      }),
    ),
  );
  if (response.code !== ResponseCode.SUCCESS)
    throw new Error(`create topic: ${response.remark ?? ''}`);
}

/** Producers keeping `window` sends each in flight; acknowledgements are timed and reported. */
class Load {
  readonly latency = new LatencyHistogram();
  acked = 0;
  failed = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly producers: Producer[] = [];
  private readonly ackListeners: ((storeAddr: string, sendOk: boolean) => void)[] = [];

  constructor(
    private readonly namesrvAddr: string,
    private readonly opts: Options,
  ) {}

  /** Hears every stored write: where it was stored and whether it was SEND_OK. */
  onAck(listener: (storeAddr: string, sendOk: boolean) => void): () => void {
    this.ackListeners.push(listener);
    return () => this.ackListeners.splice(this.ackListeners.indexOf(listener), 1);
  }

  async start(): Promise<void> {
    const body = Buffer.alloc(this.opts.size, 'x');
    for (let p = 0; p < this.opts.producers; p++) {
      const producer = new Producer({
        namesrvAddr: this.namesrvAddr,
        producerGroup: 'bench-ha',
        instanceName: `bench-ha-${p}`,
        logger: silent,
        pollNameServerIntervalMs: 300,
      });
      await producer.start();
      this.producers.push(producer);
      for (let w = 0; w < this.opts.window; w++) this.loops.push(this.loop(producer, body));
    }
  }

  private async loop(producer: Producer, body: Buffer): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        const r = await producer.send({ topic: TOPIC, body });
        const { host } = decodeOffsetMsgId(r.offsetMsgId);
        for (const l of this.ackListeners) l(`${host.ip}:${host.port}`, r.sendStatus === 'SEND_OK');
        if (r.sendStatus !== 'SEND_OK') {
          this.failed++;
          continue;
        }
        this.latency.record(performance.now() - started);
        this.acked++;
      } catch {
        this.failed++;
        await sleep(50);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const p of this.producers) await p.shutdown();
  }
}

async function throughput(role: 'SYNC_MASTER' | 'ASYNC_MASTER', opts: Options): Promise<string> {
  const group = new BenchGroup(role);
  try {
    await group.start(opts.detectionTimeMs);
    const load = new Load(group.namesrvAddr, opts);
    await load.start();
    await sleep(2000); // warm-up
    load.latency.reset();
    const acked0 = load.acked;
    const t0 = performance.now();
    await sleep(opts.durationSec * 1000);
    const secs = (performance.now() - t0) / 1000;
    const acked = load.acked - acked0;
    const s = load.latency.summary();
    await load.stop();
    return (
      `${role.padEnd(13)} ${(acked / secs).toFixed(0).padStart(8)} msg/s   ` +
      `p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  max ${s.max.toFixed(1)} ms  ` +
      `(not SEND_OK: ${load.failed})`
    );
  } finally {
    await group.stop();
  }
}

interface FailoverTiming {
  /** Kill → first write the new master stored (SYNC: answered SLAVE_NOT_AVAILABLE until a slave is back). */
  stored: number;
  /** Kill → first SEND_OK from the new master (SYNC: after the restarted old master rejoined). */
  acked: number;
}

async function failoverTimes(opts: Options): Promise<FailoverTiming[]> {
  const group = new BenchGroup('SYNC_MASTER');
  const times: FailoverTiming[] = [];
  try {
    await group.start(opts.detectionTimeMs);
    const load = new Load(group.namesrvAddr, { ...opts, window: 2 });
    await load.start();
    let steady = await group.waitForSteadyGroup(0);
    for (let k = 0; k < opts.kills; k++) {
      await sleep(1000 + Math.random() * 1000);
      const victim = steady.master;
      const oldAddr = addr(victim);
      let stored = 0;
      let onAcked: ((at: number) => void) | undefined;
      const acked = new Promise<number>((r) => (onAcked = r));
      const off = load.onAck((storeAddr, sendOk) => {
        if (storeAddr === oldAddr) return;
        if (stored === 0) stored = performance.now();
        if (sendOk) onAcked?.(performance.now());
      });
      process.kill(victim.proc!.pid, 'SIGKILL');
      const killedAt = performance.now();
      await victim.proc!.exited;
      // Once a slave took over, the killed broker is started again (as the local platform
      // does) and rejoins as a slave; started sooner it could simply be made master again.
      await group.waitForMaster(steady.epoch);
      await group.startBroker(victim);
      const at = await acked;
      off();
      times.push({ stored: stored - killedAt, acked: at - killedAt });
      steady = await group.waitForSteadyGroup(steady.epoch);
    }
    await load.stop();
  } finally {
    await group.stop();
  }
  return times;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  process.stdout.write(
    `bench:ha — ${opts.producers} producers × ${opts.window} in flight, ${opts.size} B bodies, ` +
      `${opts.durationSec} s per mode\n`,
  );
  for (const role of ['SYNC_MASTER', 'ASYNC_MASTER'] as const) {
    process.stdout.write(`${await throughput(role, opts)}\n`);
  }
  if (opts.kills > 0) {
    const times = await failoverTimes(opts);
    const figures = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      return `median ${median.toFixed(0)} ms, worst ${sorted[sorted.length - 1].toFixed(0)} ms`;
    };
    process.stdout.write(
      `failover, SYNC_MASTER master + slave, detection ${opts.detectionTimeMs} ms, ${times.length} kills:\n` +
        `  kill → first write stored by the new master:         ${figures(times.map((t) => t.stored))}\n` +
        `  kill → first SEND_OK from it (after a slave rejoined): ${figures(times.map((t) => t.acked))}\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:ha failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
