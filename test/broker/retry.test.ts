/**
 * Retry and dead-letter queues end to end (broker-internals.md §11.2, remoting.md §6.10): a
 * consumer that keeps failing sends each message back (CONSUMER_SEND_MSG_BACK) until it lands in
 * `%DLQ%<group>` with the spec's properties — with our push consumer, with ali-ons, and with
 * plain requests for the group's retryMaxTimes and the explicit DLQ level. The delay levels
 * are shortened to 1 s so the whole chain takes seconds.
 */
import { AdminClient } from '../../client/admin-client';
import type { MessageExt } from '../../client/message';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { createLogger } from '../../common/logger';
import { decodeOffsetMsgId } from '../../common/message/message-id';
import { encodeProperties, MessageConst } from '../../common/message/properties';
import type { MessageRecord } from '../../common/message/record';
import { RemotingClient } from '../../common/net/client';
import { encodeJsonBody } from '../../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import {
  ConsumerSendMsgBackRequestHeader,
  SendMessageResponseHeader,
} from '../../common/protocol/headers';
import { driveAliOns } from '../support/ali-ons';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import {
  createTopic,
  pullRecords,
  sendV2Header,
  startBroker,
  waitFor,
  waitForRoute,
  type RunningBroker,
} from './support';

const logger = createLogger('test', 'silent');
const ONE_SECOND_LEVELS = Array.from({ length: 18 }, () => '1s').join(' ');

describe('retry and DLQ', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  let admin: AdminClient;
  const client = new RemotingClient({ logger });
  const invoke = (code: number, ext?: Record<string, string>, body?: Buffer) =>
    client.invoke(broker.addr, createRequest(code, ext, body), 5000);

  /** Waits until the group's DLQ holds `count` records and returns them. */
  async function deadLetters(group: string, count: number): Promise<MessageRecord[]> {
    let records: MessageRecord[] = [];
    await waitFor(
      async () => {
        records = await pullRecords(client, broker.addr, `%DLQ%${group}`, 0);
        return records.length >= count;
      },
      30_000,
      `${count} dead letters of ${group}`,
    );
    return records;
  }

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr, { messageDelayLevel: ONE_SECOND_LEVELS });
    admin = new AdminClient({ namesrvAddr: namesrv.addr, logger });
  });

  afterAll(async () => {
    admin?.close();
    client.close();
    await broker?.stop();
    await namesrv?.stop();
    removeDir(broker.dataDir);
    removeDir(namesrv.dataDir);
  });

  it('sends the messages of a failing push consumer through its retries into the DLQ', async () => {
    const topic = 'RetryTopic';
    const group = 'retry-ours';
    await createTopic(client, broker.addr, topic, 2);
    await waitForRoute(admin, topic);
    const deliveries = new Map<string, { at: number; msg: MessageExt }[]>();
    const consumer = new PushConsumer({
      namesrvAddr: namesrv.addr,
      consumerGroup: group,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      maxReconsumeTimes: 2,
      logger,
      rebalanceIntervalMs: 1000,
    });
    consumer.subscribe(topic, '*');
    consumer.listenConcurrently((msgs) => {
      for (const msg of msgs) {
        const body = msg.body.toString();
        deliveries.set(body, [...(deliveries.get(body) ?? []), { at: Date.now(), msg }]);
      }
      return 'RECONSUME_LATER';
    });
    const producer = new Producer({ namesrvAddr: namesrv.addr, producerGroup: 'retry-p', logger });
    try {
      await consumer.start();
      await producer.start();
      const sent = new Map<string, string>();
      for (const body of ['r-0', 'r-1', 'r-2']) {
        const result = await producer.send({ topic, body, tags: 'TagR', keys: `key-${body}` });
        sent.set(body, result.msgId);
      }
      const dlq = await deadLetters(group, 3);
      expect(dlq).toHaveLength(3);
      for (const [body, msgId] of sent) {
        const seen = deliveries.get(body) ?? [];
        // The original and two retries, each retry after its (1 s) delay, under the topic sent to.
        expect(seen.map((d) => d.msg.reconsumeTimes)).toEqual([0, 1, 2]);
        expect(seen.every((d) => d.msg.topic === topic && d.msg.msgId === msgId)).toBe(true);
        for (let i = 1; i < seen.length; i++) {
          expect(seen[i].at - seen[i - 1].at).toBeGreaterThanOrEqual(1000);
        }
        const dead = dlq.find((r) => r.body.toString() === body);
        expect(dead).toMatchObject({ topic: `%DLQ%${group}`, queueId: 0, reconsumeTimes: 3 });
        expect(dead?.properties.get(MessageConst.RETRY_TOPIC)).toBe(topic);
        expect(dead?.properties.get(MessageConst.ORIGIN_MESSAGE_ID)).toBe(seen[0].msg.offsetMsgId);
        expect(dead?.properties.get(MessageConst.UNIQ_KEY)).toBe(msgId);
        expect(dead?.properties.get(MessageConst.TAGS)).toBe('TagR');
        expect(dead?.properties.get(MessageConst.KEYS)).toBe(`key-${body}`);
        expect(dead?.properties.has(MessageConst.DELAY)).toBe(false);
      }
      const dlqRoute = await admin.topicRoute(`%DLQ%${group}`);
      expect(dlqRoute.queueDatas[0]).toMatchObject({
        perm: 6,
        readQueueNums: 1,
        writeQueueNums: 1,
      });
    } finally {
      await consumer.shutdown();
      await producer.shutdown();
    }
  });

  it('honours the group’s retryMaxTimes and retryQueueNums, and delayLevel −1, for plain send-back requests', async () => {
    const group = 'raw-group';
    const groupConfig = {
      groupName: group,
      consumeEnable: true,
      consumeFromMinEnable: true,
      consumeBroadcastEnable: true,
      retryQueueNums: 2,
      retryMaxTimes: 1,
      brokerId: 0,
      whichBrokerWhenConsumeSlowly: 1,
      notifyConsumerIdsChangedEnable: true,
    };
    const created = await invoke(
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      undefined,
      encodeJsonBody(groupConfig),
    );
    expect(created.code).toBe(ResponseCode.SUCCESS);
    const send = async (body: string) => {
      const response = await invoke(
        RequestCode.SEND_MESSAGE_V2,
        sendV2Header('RawTopic', { flag: 7, properties: encodeProperties({ TAGS: 'TagRaw' }) }),
        Buffer.from(body),
      );
      expect(response.code).toBe(ResponseCode.SUCCESS);
      return SendMessageResponseHeader.decode(response.extFields).msgId;
    };
    const sendBack = (offset: number, delayLevel: number) =>
      invoke(
        RequestCode.CONSUMER_SEND_MSG_BACK,
        ConsumerSendMsgBackRequestHeader.encode({ offset, group, delayLevel }),
      );

    const originalId = await send('raw-1');
    const original = decodeOffsetMsgId(originalId).physicalOffset;
    expect((await sendBack(original, 0)).code).toBe(ResponseCode.SUCCESS);
    let retries: MessageRecord[] = [];
    await waitFor(
      async () => {
        const queues = await Promise.all(
          [0, 1].map((q) => pullRecords(client, broker.addr, `%RETRY%${group}`, q)),
        );
        retries = queues.flat();
        return retries.length > 0;
      },
      10_000,
      'the retry copy',
    );
    const route = await admin.topicRoute(`%RETRY%${group}`);
    expect(route.queueDatas[0]).toMatchObject({ perm: 6, writeQueueNums: 2 });
    const [retry] = retries;
    expect(retry).toMatchObject({ reconsumeTimes: 1, flag: 7 });
    expect(retry.storeTimestamp - retry.bornTimestamp).toBeGreaterThanOrEqual(1000);
    expect(retry.properties.get(MessageConst.RETRY_TOPIC)).toBe('RawTopic');
    expect(retry.properties.get(MessageConst.ORIGIN_MESSAGE_ID)).toBe(originalId);
    expect(retry.properties.has(MessageConst.DELAY)).toBe(false);

    // Its reconsumeTimes (1) reached the group's retryMaxTimes (1): straight to the DLQ.
    expect((await sendBack(retry.physicalOffset, 0)).code).toBe(ResponseCode.SUCCESS);
    // delayLevel −1 sends a first failure there too.
    const secondId = await send('raw-2');
    expect((await sendBack(decodeOffsetMsgId(secondId).physicalOffset, -1)).code).toBe(
      ResponseCode.SUCCESS,
    );
    const dlq = await deadLetters(group, 2);
    expect(dlq.map((r) => [r.body.toString(), r.reconsumeTimes])).toEqual([
      ['raw-1', 2],
      ['raw-2', 1],
    ]);
    expect(dlq[0].properties.get(MessageConst.ORIGIN_MESSAGE_ID)).toBe(originalId);
    expect(dlq[1].properties.get(MessageConst.ORIGIN_MESSAGE_ID)).toBe(secondId);
    // The retry copy names this broker as its store host.
    expect(retry.storeHost).toEqual({ ip: '127.0.0.1', port: broker.port });

    const missing = await sendBack(original + 1_000_000_000, 0);
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/look message by offset failed/);
  });

  it('serves the client fallback: a plain send to %RETRY%group is delayed, or dead-lettered once exhausted', async () => {
    const group = 'fallback-group';
    const sendToRetry = async (body: string, reconsumeTimes: number) => {
      const response = await invoke(
        RequestCode.SEND_MESSAGE_V2,
        sendV2Header(`%RETRY%${group}`, {
          properties: encodeProperties({
            RETRY_TOPIC: 'FallbackTopic',
            ORIGIN_MESSAGE_ID: `origin-${body}`,
            DELAY: String(3 + reconsumeTimes),
          }),
          reconsumeTimes,
          maxReconsumeTimes: 3,
        }),
        Buffer.from(body),
      );
      expect(response.code).toBe(ResponseCode.SUCCESS);
    };
    await sendToRetry('fb-retry', 1);
    await sendToRetry('fb-dead', 3);
    const [dead] = await deadLetters(group, 1);
    expect(dead.body.toString()).toBe('fb-dead');
    expect(dead.properties.get(MessageConst.ORIGIN_MESSAGE_ID)).toBe('origin-fb-dead');
    // Stored at once, not parked for the client's delay level.
    expect(dead.properties.has(MessageConst.DELAY)).toBe(false);
    expect(dead.topic).toBe(`%DLQ%${group}`);
    let retried: MessageRecord[] = [];
    await waitFor(
      async () => {
        retried = await pullRecords(client, broker.addr, `%RETRY%${group}`, 0);
        return retried.length > 0;
      },
      10_000,
      'the delayed retry',
    );
    expect(retried[0].body.toString()).toBe('fb-retry');
    expect(retried[0].reconsumeTimes).toBe(1);
    expect(retried[0].properties.has(MessageConst.DELAY)).toBe(false);
    expect(retried[0].storeTimestamp - retried[0].bornTimestamp).toBeGreaterThanOrEqual(1000);
  });

  it('takes ali-ons consumers that throw through their retries into the DLQ', async () => {
    const topic = 'OnsRetry';
    const group = 'GID_ONS_RETRY';
    const total = 5;
    await createTopic(client, broker.addr, topic, 2);
    const result = await driveAliOns({
      nameSrv: namesrv.addr,
      scenario: 'failing',
      topic,
      group,
      total,
      maxReconsumeTimes: 2,
      timeoutMs: 30_000,
    });
    expect(result.wrong).toEqual([]);
    expect(result.sent).toBe(total);
    expect(result.unique).toBe(total);
    expect(result.reconsumeTimes).toEqual([0, 1, 2]);
    expect(result.deliveries).toBe(total * 3);
    const dlq = await deadLetters(group, total);
    expect(dlq).toHaveLength(total);
    expect(dlq.every((r) => r.reconsumeTimes === 3)).toBe(true);
    expect(dlq.every((r) => r.properties.get(MessageConst.RETRY_TOPIC) === topic)).toBe(true);
  });
});
