/**
 * Storage-engine benchmark (issue 3), store only, no network: prints msgs/s and MB/s for 1 KiB
 * messages next to the machine's raw buffered sequential write bandwidth measured by the same
 * script on the same disk.
 *
 *   raw        one 1 MiB positional write at a time into a fresh file (what `fs.write` can do)
 *   async      ASYNC_FLUSH appends, many in flight (the broker's pipelined sends)
 *   sync       SYNC_FLUSH, 64 concurrent appenders each waiting for its ack (group commit)
 *   read       reading the async run's backlog back through pulls of 32 messages, page-cached
 *
 * Usage: `npm run bench:store [-- --messages=N --seconds=S --dir=PATH]`. Numbers vary from run
 * to run and machine to machine; compare within one run.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../common/logger';
import { createMessageStore, defaultStoreConfig } from '../broker/store';
import type { MessageStore, MessageToStore, StoreConfig } from '../broker/store';

const MiB = 1024 * 1024;
const BODY_SIZE = 1024;
const QUEUES = 8;

interface Args {
  messages: number;
  seconds: number;
  dir: string;
}

function parseArgs(): Args {
  const get = (name: string): string | undefined =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    messages: Number(get('messages') ?? 600_000),
    seconds: Number(get('seconds') ?? 5),
    dir: get('dir') ?? os.tmpdir(),
  };
}

function fsWrite(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.write(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** Raw buffered sequential write bandwidth (MB/s) over `bytes`. */
async function rawWrite(dir: string, bytes: number): Promise<number> {
  const file = path.join(dir, 'raw-write');
  const fd = fs.openSync(file, 'w');
  const buf = randomBytes(MiB);
  const start = process.hrtime.bigint();
  for (let pos = 0; pos < bytes; pos += buf.length) await fsWrite(fd, buf, pos);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  fs.rmSync(file);
  return bytes / MiB / secs;
}

function messageTemplate(): (i: number) => MessageToStore {
  const body = randomBytes(BODY_SIZE);
  const bornHost = { ip: '10.0.0.5', port: 50000 };
  const storeHost = { ip: '127.0.0.1', port: 10911 };
  return (i) => ({
    topic: 'BenchTopic',
    queueId: i % QUEUES,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost,
    storeHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body,
    // What a Java producer sends: a tag and a client message id (indexed).
    properties: `TAGS\u0001TagA\u0002UNIQ_KEY\u0001${(0x10000000 + i).toString(16)}\u0002`,
  });
}

async function openStore(dir: string, overrides: Partial<StoreConfig>): Promise<MessageStore> {
  const config = { ...defaultStoreConfig(), storePathRootDir: dir, ...overrides } as StoreConfig;
  const store = createMessageStore(config, { logger: createLogger('bench-store', 'warn') });
  await store.start();
  return store;
}

interface Rate {
  msgs: number;
  secs: number;
  bytes: number;
}

function show(label: string, r: Rate): string {
  const mps = r.msgs / r.secs;
  const mbs = r.bytes / MiB / r.secs;
  return `${label.padEnd(34)} ${Math.round(mps).toLocaleString('en-US').padStart(10)} msgs/s  ${mbs.toFixed(1).padStart(7)} MB/s  (${r.msgs} msgs in ${r.secs.toFixed(2)} s)`;
}

/** ASYNC_FLUSH: `total` puts with up to `window` in flight. */
async function asyncAppend(store: MessageStore, total: number, window: number): Promise<Rate> {
  const make = messageTemplate();
  let next = 0;
  let bytes = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  const lane = async () => {
    while (next < total) {
      const r = await store.putMessage(make(next++));
      if (r.status === 'PUT_OK') bytes += r.wroteBytes;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (failed > 0) throw new Error(`${failed} async puts failed`);
  return { msgs: total, secs, bytes };
}

/** SYNC_FLUSH: `appenders` concurrent loops, each waiting for its ack, for `seconds`. */
async function syncAppend(store: MessageStore, appenders: number, seconds: number): Promise<Rate> {
  const make = messageTemplate();
  let n = 0;
  let bytes = 0;
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  const start = process.hrtime.bigint();
  const lane = async () => {
    while (Date.now() < until) {
      const r = await store.putMessage(make(n));
      n++;
      if (r.status === 'PUT_OK') bytes += r.wroteBytes;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, lane));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (failed > 0) throw new Error(`${failed} sync puts failed`);
  return { msgs: n, secs, bytes };
}

/** Reads every queue from offset 0 with pulls of 32, `parallel` queues at a time. */
async function readBack(store: MessageStore, parallel: number): Promise<Rate> {
  let msgs = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  let nextQueue = 0;
  const lane = async () => {
    while (nextQueue < QUEUES) {
      const queueId = nextQueue++;
      let offset = 0;
      const max = store.getMaxOffsetInQueue('BenchTopic', queueId);
      while (offset < max) {
        const r = await store.getMessage({ topic: 'BenchTopic', queueId, offset, maxMsgNums: 32 });
        if (r.messages.length === 0)
          throw new Error(`read stalled at ${queueId}@${offset}: ${r.status}`);
        msgs += r.messages.length;
        bytes += r.bufferTotalSize;
        offset = r.nextBeginOffset;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { msgs, secs, bytes };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const root = fs.mkdtempSync(path.join(args.dir, 'bench-store-'));
  try {
    console.log(
      `store benchmark: ${BODY_SIZE}-byte bodies, ${QUEUES} queues, node ${process.version}, ` +
        `${os.cpus().length} cpus, load average ${os.loadavg()[0].toFixed(1)}, ` +
        `UV_USE_IO_URING=${process.env.UV_USE_IO_URING ?? '(unset)'}, dir ${root}`,
    );
    const rawBytes = Math.max(256 * MiB, Math.ceil((args.messages * 1.2 * BODY_SIZE) / MiB) * MiB);
    const raw = await rawWrite(root, rawBytes);
    console.log(
      `${'raw buffered sequential write'.padEnd(34)} ${raw.toFixed(1).padStart(29)} MB/s  (1 MiB writes, ${rawBytes / MiB} MiB)`,
    );

    const asyncStore = await openStore(path.join(root, 'async'), { flushDiskType: 'ASYNC_FLUSH' });
    await asyncAppend(asyncStore, 20_000, 256); // warm-up: JIT, first files
    const asyncRate = await asyncAppend(asyncStore, args.messages, 256);
    console.log(show('ASYNC_FLUSH append (256 in flight)', asyncRate));
    const asyncMBs = asyncRate.bytes / MiB / asyncRate.secs;
    console.log(
      `${'  ratio to raw write'.padEnd(34)} ${((asyncMBs / raw) * 100).toFixed(0).padStart(10)} %   (target ≥ 60 %)`,
    );

    const read1 = await readBack(asyncStore, 1);
    console.log(show('read back, 1 reader (pulls of 32)', read1));
    const read4 = await readBack(asyncStore, 4);
    console.log(show('read back, 4 readers', read4));
    console.log(`${'  target'.padEnd(34)} ${'≥ 500 MB/s'.padStart(10)}`);
    await asyncStore.shutdown();

    const syncStore = await openStore(path.join(root, 'sync'), { flushDiskType: 'SYNC_FLUSH' });
    await syncAppend(syncStore, 64, 1); // warm-up
    const syncRate = await syncAppend(syncStore, 64, args.seconds);
    console.log(show('SYNC_FLUSH append, 64 appenders', syncRate));
    console.log(`${'  target'.padEnd(34)} ${'≥ 50,000 msgs/s'.padStart(10)}`);
    await syncStore.shutdown();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
