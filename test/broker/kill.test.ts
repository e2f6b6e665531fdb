/**
 * kill -9 of a SYNC_FLUSH broker in the middle of a stream (DESIGN.md "Durability is explicit"):
 * producers keep sending, the broker is SIGKILLed and restarted on the same store, and the push
 * consumer goes on from the group's committed offsets. Every acknowledged message is consumed;
 * duplicates (messages consumed after their offset was committed but before it was persisted)
 * are allowed and reported.
 */
import { AdminClient } from '../../client/admin-client';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { createLogger } from '../../common/logger';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { sleep, startBroker, waitFor, waitForRoute, type RunningBroker } from './support';

const logger = createLogger('test', 'silent');
const TOPIC = 'KillTopic';
const GROUP = 'kill-group';
const BROKER_FLAGS = { flushDiskType: 'SYNC_FLUSH', flushConsumerOffsetInterval: 1000 };

describe('kill -9 of a SYNC_FLUSH broker mid-stream', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  let admin: AdminClient;
  let producer: Producer;
  const consumers: PushConsumer[] = [];

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr, BROKER_FLAGS);
    admin = new AdminClient({ namesrvAddr: namesrv.addr, logger });
    await admin.createTopic(broker.addr, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4 });
    await waitForRoute(admin, TOPIC);
  });

  afterAll(async () => {
    for (const c of consumers) await c.shutdown();
    await producer?.shutdown();
    admin?.close();
    await broker?.stop();
    await namesrv?.stop();
    removeDir(broker.dataDir);
    removeDir(namesrv.dataDir);
  });

  it('loses no acknowledged message and resumes from the committed offsets', async () => {
    const consumed = new Map<string, number>();
    const startConsumer = async () => {
      const consumer = new PushConsumer({
        namesrvAddr: namesrv.addr,
        consumerGroup: GROUP,
        consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
        logger,
        rebalanceIntervalMs: 1000,
        persistConsumerOffsetIntervalMs: 500,
      });
      consumer.subscribe(TOPIC, '*');
      consumer.listenConcurrently((msgs) => {
        for (const m of msgs) {
          const body = m.body.toString();
          consumed.set(body, (consumed.get(body) ?? 0) + 1);
        }
        return 'CONSUME_SUCCESS';
      });
      consumers.push(consumer);
      await consumer.start();
      return consumer;
    };
    const first = await startConsumer();
    producer = new Producer({
      namesrvAddr: namesrv.addr,
      producerGroup: 'kill-p',
      logger,
      sendMsgTimeoutMs: 1000,
    });
    await producer.start();

    const acked = new Set<string>();
    let failed = 0;
    let next = 0;
    let sending = true;
    const sender = async () => {
      while (sending) {
        const body = `k-${next++}`;
        try {
          await producer.send({ topic: TOPIC, body });
          acked.add(body);
        } catch {
          // Refused or cut off by the kill: not acknowledged, so it may or may not be stored.
          failed++;
          await sleep(50);
        }
      }
    };
    const senders = Array.from({ length: 8 }, sender);

    await waitFor(() => acked.size >= 1500, 30_000, '1500 acknowledged sends');
    // Long enough for the broker to persist the group's offsets a few times.
    await sleep(2500);
    // The consumer commits its offsets as it stops; the broker has them in memory only until
    // its next offset flush, and the kill comes first: a new consumer of the group starts from
    // what was persisted before.
    await first.shutdown();
    await broker.kill();
    const consumedBeforeKill = consumed.size;
    const ackedBeforeKill = acked.size;
    broker = await startBroker(
      namesrv.addr,
      { ...BROKER_FLAGS, listenPort: broker.port },
      broker.dataDir,
    );
    await startConsumer();
    await waitFor(() => acked.size >= ackedBeforeKill + 500, 30_000, 'sends after the restart');
    sending = false;
    await Promise.all(senders);

    await waitFor(
      () => [...acked].every((body) => consumed.has(body)),
      60_000,
      'every acknowledged message consumed',
    );
    const duplicates = [...consumed.values()].reduce((sum, n) => sum + n - 1, 0);
    process.stdout.write(
      `kill -9: ${acked.size} acknowledged (${ackedBeforeKill} before the kill), ${failed} failed sends, ` +
        `${consumed.size} distinct consumed (${consumedBeforeKill} before the kill), ${duplicates} duplicates\n`,
    );
    expect([...acked].filter((body) => !consumed.has(body))).toEqual([]);
    // The group went on from its committed offsets, not from the start of the queues.
    expect(duplicates).toBeLessThan(Math.max(1, consumedBeforeKill));
  });
});
