/**
 * Micro-benchmark of the broker's side of a SEND_BATCH_MESSAGE of 32 × 1 KiB without sockets:
 * split the batch body, build the messages as the send processor does, put them into a real
 * ASYNC_FLUSH store (encode, append, write, dispatch, index) and form the response's msgId.
 * Reports CPU time per message (process.cpuUsage: every thread, so the store's writes count),
 * which moves much less than throughput on a machine shared with other work:
 *
 *   node dist/bench/micro/batch-put.js [batches] [dir]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessageStore, defaultStoreConfig, type MessageToStore } from '../../broker/store';
import { decodeBatchBody, encodeBatchBody } from '../../common/message/batch';
import { createUniqKey } from '../../common/message/message-id';
import { appendProperties, encodeProperties, MessageConst } from '../../common/message/properties';
import { createLogger } from '../../common/logger';

const BATCH = 32;
const QUEUES = 8;
const IN_FLIGHT = 64;
const batches = Number(process.argv[2] ?? 20_000);
const root = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'bench-batch-put-'));

/** A batch body as our producer encodes it: 32 bodies, each with its UNIQ_KEY. */
function batchBody(): Buffer {
  const body = randomBytes(1024);
  return encodeBatchBody(
    Array.from({ length: BATCH }, () => ({
      flag: 0,
      body,
      properties: encodeProperties({ [MessageConst.UNIQ_KEY]: createUniqKey() }),
    })),
  );
}

async function main(): Promise<void> {
  const store = createMessageStore(
    { ...defaultStoreConfig(), storePathRootDir: root, flushDiskType: 'ASYNC_FLUSH' },
    { logger: createLogger('bench-batch-put', 'warn') },
  );
  await store.start();
  const bodies = Array.from({ length: 16 }, batchBody);
  const batchProperties = `${MessageConst.WAIT}\u0001true\u0002${MessageConst.CLUSTER}\u0001DefaultCluster\u0002`;
  const bornHost = { ip: '127.0.0.1', port: 50000 };
  const storeHost = { ip: '127.0.0.1', port: 10911 };
  let idLength = 0;
  const put = async (n: number) => {
    const entries = decodeBatchBody(bodies[n % bodies.length]);
    const msgs = entries.map((entry): MessageToStore => ({
      topic: 'BenchTopic',
      queueId: n % QUEUES,
      flag: entry.flag,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      bornHost,
      storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: entry.body,
      properties: appendProperties(entry.properties, batchProperties),
    }));
    const result = await store.putMessages(msgs);
    if (result.status !== 'PUT_OK') throw new Error(`put failed: ${result.status}`);
    idLength += result.msgId.length;
  };
  const run = async (count: number) => {
    let next = 0;
    const lane = async () => {
      while (next < count) await put(next++);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  };
  await run(Math.min(2000, batches)); // warm-up: JIT, the first file
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run(batches);
  const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await store.shutdown();
  const messages = batches * BATCH;
  const cpuUsPerMsg = (used.user + used.system) / messages;
  console.log(
    `${messages} messages in batches of ${BATCH}: ${cpuUsPerMsg.toFixed(2)} µs CPU/msg ` +
      `(user ${(used.user / messages).toFixed(2)}, system ${(used.system / messages).toFixed(2)}), ` +
      `${Math.round(messages / wallSec)} msgs/s wall`,
  );
  console.log(
    JSON.stringify({
      bench: 'batch-put',
      messages,
      cpuUsPerMsg,
      msgsPerSec: messages / wallSec,
      idLength,
    }),
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
