import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connect,
  DeliverPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import { ensureDebianPackages } from '../system/debian-packages';
import { freePort } from '../../common/net/free-port';
import { startServerProcess, waitForPort } from '../system/server-process';
import { runningServer } from './running-server';
import type { BenchTarget, Endpoint, TargetKind } from './target';

const NATS_SERVER = '/usr/sbin/nats-server';
const STREAM = 'BENCH';
const SUBJECT = 'bench';

/**
 * How messages are published. `jetstream`: the client's `js.publish`, which resolves on the
 * stream's PubAck (the API users are pointed to). `request`: a plain request to the stream's
 * subject, whose reply is the same PubAck, without the JetStream client's per-publish work —
 * what the server can take when the client is not the limit.
 */
export type NatsPublishApi = 'jetstream' | 'request';

/**
 * NATS JetStream, one stream with file storage. Debian's nats-server 2.9 has no per-message
 * fsync (`sync_interval` came later): it acknowledges once the message is written to its files
 * and syncs every two minutes, so both durability modes run the same way and the table says so.
 */
export function natsTarget(api: NatsPublishApi): TargetKind {
  const name = api === 'jetstream' ? 'nats-jetstream' : 'nats-jetstream-request';
  return {
    name,
    install: (log) => ensureDebianPackages([{ name: 'nats-server', program: NATS_SERVER }], log),
    async start(durability, workDir, log) {
      const port = await freePort();
      const config = join(workDir, 'nats-server.conf');
      writeFileSync(config, `jetstream {\n  store_dir: ${JSON.stringify(workDir)}\n}\n`);
      const server = startServerProcess(
        'nats-server',
        NATS_SERVER,
        ['-a', '127.0.0.1', '-p', String(port), '-c', config],
        { logFile: join(workDir, 'nats-server.log') },
      );
      await waitForPort(server, port);
      log.info({ port, pid: server.pid }, 'nats-server started');
      const endpoint: Endpoint = {
        target: name,
        durability,
        host: '127.0.0.1',
        port,
        options: { api },
      };
      return runningServer(server, endpoint, 'file store, fsync every 2 min');
    },
    client: (endpoint) => new JetStreamTarget(endpoint),
  };
}

/** A PubAck that refuses the message carries an "error" member. */
const PUB_ACK_ERROR = Buffer.from('"error"');

class JetStreamTarget implements BenchTarget {
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private messages: ConsumerMessages | undefined;

  constructor(private readonly endpoint: Endpoint) {}

  async connect(): Promise<void> {
    this.connection = await connect({ servers: `${this.endpoint.host}:${this.endpoint.port}` });
    const manager = await this.connection.jetstreamManager();
    await manager.streams.delete(STREAM).catch(() => false); // absent on a fresh server
    await manager.streams.add({ name: STREAM, subjects: [SUBJECT], storage: StorageType.File });
    this.js = this.connection.jetstream();
  }

  async publish(body: Buffer): Promise<void> {
    if (this.endpoint.options.api !== 'request') {
      await this.js!.publish(SUBJECT, body);
      return;
    }
    const reply = await this.connection!.request(SUBJECT, body, { timeout: 10_000 });
    const ack = Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.length);
    if (ack.includes(PUB_ACK_ERROR)) throw new Error(`JetStream refused: ${ack.toString()}`);
  }

  async consume(onMessage: (body: Buffer) => void, onError: (err: Error) => void): Promise<void> {
    // An ordered consumer: flow-controlled pull batches, no per-message acks (like a
    // RocketMQ consumer that commits its offset now and then).
    const consumer = await this.js!.consumers.get(STREAM, {
      deliver_policy: DeliverPolicy.New,
    });
    this.messages = await consumer.consume({
      max_messages: 1000,
      callback: (msg) =>
        onMessage(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.length)),
    });
    this.messages.closed().then(
      (err) => {
        if (err) onError(err);
      },
      (err: Error) => onError(err),
    );
  }

  async close(): Promise<void> {
    await this.messages?.close();
    await this.connection?.drain();
  }
}
