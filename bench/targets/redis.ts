import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureDebianPackages } from '../system/debian-packages';
import { freePort } from '../../common/net/free-port';
import { startServerProcess, waitForPort } from '../system/server-process';
import { runningServer } from './running-server';
import type { BenchTarget, Endpoint, TargetKind } from './target';

const REDIS_SERVER = '/usr/bin/redis-server';
const STREAM_KEY = 'bench';
const FIELD = 'd';

/**
 * Redis Streams with the append-only file: `appendfsync everysec` for the async scenarios,
 * `appendfsync always` (fsync before the reply) for the strongest durability. No RDB snapshots.
 */
export const redisTarget: TargetKind = {
  name: 'redis',
  install: (log) => ensureDebianPackages([{ name: 'redis-server', program: REDIS_SERVER }], log),
  async start(durability, workDir, log) {
    const port = await freePort();
    const appendfsync = durability === 'sync' ? 'always' : 'everysec';
    const server = startServerProcess(
      'redis-server',
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        workDir,
        '--daemonize',
        'no',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        appendfsync,
        '--protected-mode',
        'no',
      ],
      { logFile: join(workDir, 'redis-server.log') },
    );
    await waitForPort(server, port);
    log.info({ port, appendfsync, pid: server.pid }, 'redis-server started');
    const endpoint: Endpoint = {
      target: 'redis',
      durability,
      host: '127.0.0.1',
      port,
      options: {},
    };
    return runningServer(server, endpoint, `AOF appendfsync ${appendfsync}`);
  },
  client: (endpoint) => new RedisStreamTarget(endpoint),
};

/** XREAD's reply in RESP2: per stream, its name and [id, [field, value, …]] entries. */
type StreamEntries = [Buffer, [Buffer, Buffer[]][]][];

/** XADD to one stream; a second connection follows it with blocking XREAD from the tail. */
class RedisStreamTarget implements BenchTarget {
  private producer: Redis | undefined;
  private reader: Redis | undefined;
  private reading = false;

  constructor(private readonly endpoint: Endpoint) {}

  async connect(): Promise<void> {
    this.producer = this.connection();
    await this.producer.del(STREAM_KEY);
  }

  async publish(body: Buffer): Promise<void> {
    await this.producer!.xadd(STREAM_KEY, '*', FIELD, body);
  }

  async consume(onMessage: (body: Buffer) => void, onError: (err: Error) => void): Promise<void> {
    const reader = (this.reader = this.connection());
    await reader.ping();
    this.reading = true;
    this.follow(reader, onMessage).catch((err: Error) => {
      if (this.reading) onError(err);
    });
  }

  private async follow(reader: Redis, onMessage: (body: Buffer) => void): Promise<void> {
    let lastId: string | Buffer = '$';
    while (this.reading) {
      const reply = (await reader.xreadBuffer(
        'COUNT',
        1000,
        'BLOCK',
        500,
        'STREAMS',
        STREAM_KEY,
        lastId,
      )) as StreamEntries | null;
      if (reply === null) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          lastId = id;
          onMessage(fields[1]);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.reading = false;
    this.reader?.disconnect();
    await this.producer?.quit();
  }

  private connection(): Redis {
    return new Redis({
      host: this.endpoint.host,
      port: this.endpoint.port,
      // A benchmark must see failures, not retries that hide them.
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      lazyConnect: false,
    });
  }
}
