/**
 * Delay messages end to end (broker-internals.md §9): real name server and broker processes,
 * our producer and push consumer. A level-2 message (5 s) reaches the consumer no earlier than
 * 5 s after it was sent, in the queue it was sent to and without DELAY; a pending one survives
 * a kill -9 of the broker; progress is kept in delayOffset.json in RocketMQ's format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient } from '../../client/admin-client';
import type { MessageExt } from '../../client/message';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { createLogger } from '../../common/logger';
import { MessageConst } from '../../common/message/properties';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { startBroker, waitFor, waitForRoute, type RunningBroker } from './support';

const logger = createLogger('test', 'silent');
const TOPIC = 'DelayTopic';
const LEVEL_2_MS = 5000;

describe('delay messages', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  let admin: AdminClient;
  let producer: Producer;
  const consumers: PushConsumer[] = [];

  /** A consumer of TOPIC in a new group that records when each body first arrived. */
  async function consume(group: string): Promise<Map<string, { at: number; msg: MessageExt }>> {
    const arrivals = new Map<string, { at: number; msg: MessageExt }>();
    const consumer = new PushConsumer({
      namesrvAddr: namesrv.addr,
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      logger,
      rebalanceIntervalMs: 1000,
    });
    consumer.subscribe(TOPIC, '*');
    consumer.listenConcurrently((msgs) => {
      const at = Date.now();
      for (const msg of msgs) {
        const body = msg.body.toString();
        if (!arrivals.has(body)) arrivals.set(body, { at, msg });
      }
      return 'CONSUME_SUCCESS';
    });
    consumers.push(consumer);
    await consumer.start();
    return arrivals;
  }

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr, { flushDiskType: 'SYNC_FLUSH' });
    admin = new AdminClient({ namesrvAddr: namesrv.addr, logger });
    await admin.createTopic(broker.addr, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4 });
    await waitForRoute(admin, TOPIC);
    producer = new Producer({ namesrvAddr: namesrv.addr, producerGroup: 'delay-p', logger });
    await producer.start();
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

  it('delivers level 2 no earlier than 5 s after the send, into the queue it was sent to, without DELAY', async () => {
    const arrivals = await consume('delay-g1');
    const sentAt = Date.now();
    const delayed = await producer.send({
      topic: TOPIC,
      body: 'delayed-1',
      tags: 'TagD',
      keys: 'key-d1',
      delayTimeLevel: 2,
      properties: { color: 'blue' },
    });
    await producer.send({ topic: TOPIC, body: 'now-1' });
    await waitFor(() => arrivals.has('delayed-1') && arrivals.has('now-1'), 20_000, 'arrivals');

    const first = arrivals.get('now-1')!;
    const { at, msg } = arrivals.get('delayed-1')!;
    expect(first.at).toBeLessThan(at);
    expect(at - sentAt).toBeGreaterThanOrEqual(LEVEL_2_MS);
    expect(msg.topic).toBe(TOPIC);
    expect(msg.queueId).toBe(delayed.messageQueue.queueId);
    expect(msg.msgId).toBe(delayed.msgId);
    expect(msg.tags).toBe('TagD');
    expect(msg.keys).toBe('key-d1');
    expect(msg.properties.get('color')).toBe('blue');
    expect(msg.properties.has(MessageConst.DELAY)).toBe(false);
    expect(msg.storeTimestamp - msg.bornTimestamp).toBeGreaterThanOrEqual(LEVEL_2_MS);
  });

  it('keeps a pending delay message across a kill -9 and a restart of the broker', async () => {
    const sentAt = Date.now();
    const sent = await producer.send({ topic: TOPIC, body: 'delayed-2', delayTimeLevel: 2 });
    // SYNC_FLUSH acknowledged it: the parked copy is on disk.
    await broker.kill();
    broker = await startBroker(
      namesrv.addr,
      { flushDiskType: 'SYNC_FLUSH', listenPort: broker.port },
      broker.dataDir,
    );
    const arrivals = await consume('delay-g2');
    await waitFor(() => arrivals.has('delayed-2'), 30_000, 'the delayed message after restart');
    const { at, msg } = arrivals.get('delayed-2')!;
    expect(at - sentAt).toBeGreaterThanOrEqual(LEVEL_2_MS);
    expect(msg.msgId).toBe(sent.msgId);
    expect(msg.properties.has(MessageConst.DELAY)).toBe(false);
  });

  it('reports and records the delivered offsets per level (runtime info, delayOffset.json)', async () => {
    const info = await admin.brokerRuntimeInfo(broker.addr);
    // "<delivered offset>,<max offset>" of SCHEDULE_TOPIC_XXXX queue level − 1.
    expect(info.scheduleMessageOffset_2).toBe('2,2');
    expect(info.scheduleMessageOffset_1).toBe('0,0');
    expect(await broker.stop()).toBe(0);
    const text = readFileSync(join(broker.dataDir, 'config', 'delayOffset.json'), 'utf8');
    // Two level-2 messages were delivered: queue 1 of SCHEDULE_TOPIC_XXXX is at offset 2.
    expect(JSON.parse(text)).toEqual({ offsetTable: { '2': 2 } });
  });
});
