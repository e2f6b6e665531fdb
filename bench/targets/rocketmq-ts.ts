import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdminClient } from '../../client/admin-client';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { createLogger, type Logger } from '../../common/logger';
import { freeBrokerPort, freePort } from '../../common/net/free-port';
import { startServerProcess, waitForLogLine, type ServerProcess } from '../system/server-process';
import { OUR_TARGET } from './our-target';
import { runningServer } from './running-server';
import type { BenchTarget, Endpoint, TargetKind } from './target';

/** The compiled CLI (bench:compare builds it first). */
const CLI = resolve(__dirname, '../../cli/index.js');
/** The scenarios use one topic of 8 queues. */
const QUEUES = 8;

/**
 * Our broker: a name server and a broker started with the compiled CLI, ASYNC_FLUSH for the
 * async scenarios and SYNC_FLUSH (acknowledged after fsync) for the sync one, driven by our
 * client's Producer (`send`, awaited) and PushConsumer.
 */
export const rocketmqTsTarget: TargetKind = {
  name: OUR_TARGET,
  async install() {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  },
  async start(durability, workDir, log, options = {}) {
    const flushDiskType = durability === 'sync' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH';
    const namesrvPort = await freePort();
    const namesrv = startCli('namesrv', workDir, undefined, {
      listenPort: namesrvPort,
      httpPort: 0,
      bindAddress: '127.0.0.1',
      kvConfigPath: join(workDir, 'namesrv', 'kvConfig.json'),
    });
    let broker: ServerProcess | undefined;
    try {
      await waitForLogLine(namesrv, (l) => l.msg === 'name server started');
      const namesrvAddr = `127.0.0.1:${namesrvPort}`;
      const storePathRootDir = join(workDir, 'store');
      mkdirSync(storePathRootDir, { recursive: true });
      broker = startCli('broker', workDir, options.cpuProfileDir, {
        namesrvAddr,
        brokerName: 'bench-broker',
        brokerIP1: '127.0.0.1',
        bindAddress: '127.0.0.1',
        listenPort: await freeBrokerPort(),
        httpPort: 0,
        storePathRootDir,
        flushDiskType,
      });
      const started = await waitForLogLine(broker, (l) => l.msg === 'broker started');
      const brokerAddr = String(started.brokerAddr);
      log.info({ namesrvAddr, brokerAddr, flushDiskType, pid: broker.pid }, 'rocketmq-ts started');
      const endpoint: Endpoint = {
        target: OUR_TARGET,
        durability,
        host: '127.0.0.1',
        port: Number(started.port),
        options: { namesrvAddr, brokerAddr },
      };
      const note = flushDiskType === 'SYNC_FLUSH' ? 'SYNC_FLUSH (fsync before ack)' : 'ASYNC_FLUSH';
      // The broker's memory is the figure; the name server stops after it.
      return runningServer(broker, endpoint, note, () => namesrv.stop());
    } catch (err) {
      await broker?.stop();
      await namesrv.stop();
      throw err;
    }
  },
  client: (endpoint) => new RocketmqTsTarget(endpoint),
};

function startCli(
  verb: string,
  workDir: string,
  cpuProfileDir: string | undefined,
  flags: Record<string, string | number>,
) {
  // The profile is written when the process exits, which SIGTERM leads to in an orderly way.
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const args = [...profile, CLI, verb, ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`)];
  return startServerProcess(verb, process.execPath, args, {
    logFile: join(workDir, `${verb}.log`),
    env: { LOG_LEVEL: 'info' },
  });
}

/** A fresh topic per scenario run, created with 8 queues on the broker. */
class RocketmqTsTarget implements BenchTarget {
  private readonly logger: Logger = createLogger('bench-client', 'warn', 'stderr');
  private readonly topic = `BenchTopic_${process.pid}_${Date.now()}`;
  private producer: Producer | undefined;
  private consumer: PushConsumer | undefined;

  constructor(private readonly endpoint: Endpoint) {}

  private get namesrvAddr(): string {
    return this.endpoint.options.namesrvAddr;
  }

  async connect(): Promise<void> {
    await createBenchTopic(this.endpoint, this.topic, this.logger);
    this.producer = new Producer({
      namesrvAddr: this.namesrvAddr,
      producerGroup: 'BenchProducerGroup',
      logger: this.logger,
    });
    await this.producer.start();
  }

  async publish(body: Buffer): Promise<void> {
    const result = await this.producer!.send({ topic: this.topic, body });
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send status ${result.sendStatus}`);
  }

  async publishBatch(bodies: Buffer[]): Promise<void> {
    const topic = this.topic;
    const result = await this.producer!.sendBatch(bodies.map((body) => ({ topic, body })));
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send status ${result.sendStatus}`);
  }

  async consume(onMessage: (body: Buffer) => void): Promise<void> {
    const consumer = (this.consumer = new PushConsumer({
      namesrvAddr: this.namesrvAddr,
      consumerGroup: `BenchConsumer_${this.topic}`,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      logger: this.logger,
    }));
    consumer.subscribe(this.topic, '*');
    consumer.listenConcurrently((msgs) => {
      for (const msg of msgs) onMessage(msg.body);
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
  }

  async close(): Promise<void> {
    await this.consumer?.shutdown();
    await this.producer?.shutdown();
  }
}

/** Creates `topic` with the scenarios' 8 queues on the endpoint's broker and waits for its route. */
export async function createBenchTopic(
  endpoint: Endpoint,
  topic: string,
  logger: Logger,
): Promise<void> {
  const admin = new AdminClient({ namesrvAddr: endpoint.options.namesrvAddr, logger });
  try {
    await admin.createTopic(endpoint.options.brokerAddr, {
      topic,
      readQueueNums: QUEUES,
      writeQueueNums: QUEUES,
    });
    await waitUntil(() => admin.topicRoute(topic), 10_000, `route of ${topic}`);
  } finally {
    admin.close();
  }
}

async function waitUntil(probe: () => Promise<unknown>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
