import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { ensureDebianPackages } from '../system/debian-packages';
import { freePort } from '../../common/net/free-port';
import { startServerProcess, waitForPort } from '../system/server-process';
import { runningServer } from './running-server';
import type { BenchTarget, Endpoint, TargetKind } from './target';

const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = '/usr/bin/epmd';
const QUEUE = 'bench';

export type RabbitQueueType = 'quorum' | 'classic';

/**
 * RabbitMQ, one durable queue, persistent messages, publisher confirms. A quorum queue fsyncs
 * its log before confirming; a classic durable queue confirms once its message store has
 * synced (batched). Both durability modes therefore run the same way.
 *
 * The node runs as root straight from RabbitMQ's own start script (not Debian's wrapper, which
 * switches to the rabbitmq user and its home), with its own epmd on a private port, so nothing
 * of the machine's default RabbitMQ setup (ports 5672/4369, /var/lib/rabbitmq) is touched.
 */
export function rabbitmqTarget(queueType: RabbitQueueType): TargetKind {
  const name = `rabbitmq-${queueType}`;
  return {
    name,
    install: (log) =>
      ensureDebianPackages([{ name: 'rabbitmq-server', program: RABBITMQ_SERVER }], log),
    async start(durability, workDir, log) {
      const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
      writeFileSync(join(workDir, 'enabled_plugins'), '[].\n');
      writeFileSync(
        join(workDir, 'rabbitmq.conf'),
        `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`,
      );
      mkdirSync(join(workDir, 'home'), { recursive: true });
      const epmd = startServerProcess(
        'epmd',
        EPMD,
        ['-port', String(epmdPort), '-address', '127.0.0.1'],
        { logFile: join(workDir, 'epmd.log') },
      );
      await waitForPort(epmd, epmdPort);
      const server = startServerProcess('rabbitmq-server', RABBITMQ_SERVER, [], {
        logFile: join(workDir, 'rabbitmq-server.log'),
        env: {
          HOME: join(workDir, 'home'), // its Erlang cookie goes here
          ERL_EPMD_PORT: String(epmdPort),
          RABBITMQ_NODENAME: 'bench@localhost',
          RABBITMQ_DIST_PORT: String(distPort),
          RABBITMQ_CONF_ENV_FILE: join(workDir, 'rabbitmq-env.conf'), // absent: no machine env
          RABBITMQ_CONFIG_FILE: join(workDir, 'rabbitmq.conf'),
          RABBITMQ_ENABLED_PLUGINS_FILE: join(workDir, 'enabled_plugins'),
          RABBITMQ_MNESIA_BASE: join(workDir, 'mnesia'),
          RABBITMQ_LOG_BASE: join(workDir, 'log'),
          RABBITMQ_LOGS: '-',
        },
      });
      try {
        await waitForPort(server, port, 120_000);
      } catch (err) {
        await server.stop();
        await epmd.stop();
        throw err;
      }
      log.info({ port, pid: server.pid, queueType }, 'rabbitmq-server started');
      const endpoint: Endpoint = {
        target: name,
        durability,
        host: '127.0.0.1',
        port,
        options: { queueType },
      };
      const note =
        queueType === 'quorum'
          ? 'quorum queue, confirm after fsync'
          : 'classic queue, confirm after sync';
      return runningServer(server, endpoint, note, () => epmd.stop());
    },
    client: (endpoint) => new RabbitTarget(endpoint),
  };
}

class RabbitTarget implements BenchTarget {
  private model: ChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;

  constructor(private readonly endpoint: Endpoint) {}

  async connect(): Promise<void> {
    const { host, port } = this.endpoint;
    this.model = await connect(`amqp://guest:guest@${host}:${port}`);
    this.publisher = await this.model.createConfirmChannel();
    await this.publisher.deleteQueue(QUEUE);
    await this.publisher.assertQueue(QUEUE, {
      durable: true,
      arguments: { 'x-queue-type': this.endpoint.options.queueType ?? 'quorum' },
    });
  }

  publish(body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.publisher!.sendToQueue(QUEUE, body, { persistent: true }, (err: unknown) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
  }

  async consume(onMessage: (body: Buffer) => void, onError: (err: Error) => void): Promise<void> {
    const channel = await this.model!.createChannel();
    channel.on('error', onError);
    await channel.prefetch(1000);
    await channel.consume(QUEUE, (msg) => {
      if (msg === null) return onError(new Error('the server cancelled the consumer'));
      onMessage(msg.content);
      channel.ack(msg);
    });
  }

  async close(): Promise<void> {
    await this.model?.close();
  }
}
