/**
 * The broker process over the wire with our remoting client: send (single, V1/V2, batch),
 * pull statuses and long polling, consumer groups and notifications, offsets, locks, the VIP
 * port, validation errors, and metadata surviving a restart.
 */
import { NamesrvClient } from '../../client/namesrv-client';
import { createLogger } from '../../common/logger';
import { encodeBatchBody } from '../../common/message/batch';
import { encodeProperties } from '../../common/message/properties';
import { decodeOffsetMsgId } from '../../common/message/message-id';
import { decodeRecords } from '../../common/message/record';
import { RemotingClient } from '../../common/net/client';
import {
  decodeConsumeStats,
  decodeTopicStatsTable,
  decodeConsumerListBody,
  decodeLockBatchResponseBody,
  type HeartbeatData,
} from '../../common/protocol/broker-bodies';
import { encodeJsonBody } from '../../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest, type RemotingCommand } from '../../common/protocol/command';
import {
  OffsetResponseHeader,
  PullMessageRequestHeader,
  PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader,
  QueueRequestHeader,
  SendMessageRequestHeader,
  SendMessageResponseHeader,
  UpdateConsumerOffsetRequestHeader,
  GetConsumerListByGroupRequestHeader,
  QueryMessageRequestHeader,
  ViewMessageRequestHeader,
} from '../../common/protocol/headers';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { createTopic, startBroker, waitFor, type RunningBroker } from './support';

const logger = createLogger('test', 'silent');

function sendHeader(topic: string, queueId: number, properties: Record<string, string> = {}) {
  return SendMessageRequestHeader.encode(
    {
      producerGroup: 'PG',
      topic,
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: 4,
      queueId,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      flag: 0,
      properties: encodeProperties(properties),
    },
    true,
  );
}

function pullHeader(
  topic: string,
  queueId: number,
  queueOffset: number,
  extra: { sysFlag?: number; suspendTimeoutMillis?: number; subscription?: string } = {},
) {
  return PullMessageRequestHeader.encode({
    consumerGroup: 'CG',
    topic,
    queueId,
    queueOffset,
    maxMsgNums: 32,
    sysFlag: extra.sysFlag ?? 0x4,
    commitOffset: 0,
    suspendTimeoutMillis: extra.suspendTimeoutMillis ?? 0,
    subscription: extra.subscription ?? '*',
    subVersion: 0,
  });
}

function heartbeat(clientID: string, group: string, topic: string): HeartbeatData {
  return {
    clientID,
    consumerDataSet: [
      {
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        consumeType: 'CONSUME_PASSIVELY',
        groupName: group,
        messageModel: 'CLUSTERING',
        subscriptionDataSet: [
          {
            classFilterMode: false,
            codeSet: [],
            expressionType: 'TAG',
            subString: '*',
            subVersion: 1,
            tagsSet: [],
            topic,
          },
        ],
        unitMode: false,
      },
    ],
    producerDataSet: [],
  };
}

describe('broker over the wire', () => {
  let namesrv: RunningNamesrv;
  let broker: RunningBroker;
  const client = new RemotingClient({ logger });
  const invoke = (code: number, ext?: Record<string, string>, body?: Buffer, addr?: string) =>
    client.invoke(addr ?? broker.addr, createRequest(code, ext, body), 5000);

  beforeAll(async () => {
    namesrv = await startNamesrv();
    broker = await startBroker(namesrv.addr, { maxMessageSize: 65536 });
  });

  afterAll(async () => {
    client.close();
    await broker?.stop();
    await namesrv?.stop();
    removeDir(broker.dataDir);
    removeDir(namesrv.dataDir);
  });

  it('auto-creates a topic from TBW102 on send, answers the send header, and registers the topic', async () => {
    const response = await invoke(
      RequestCode.SEND_MESSAGE_V2,
      sendHeader('AutoTopic', 1, { TAGS: 'TagA', KEYS: 'k1' }),
      Buffer.from('hello'),
    );
    expect(response.code).toBe(ResponseCode.SUCCESS);
    const h = SendMessageResponseHeader.decode(response.extFields);
    expect(h.msgId).toMatch(/^7F000001[0-9A-F]{24}$/);
    expect(h).toMatchObject({ queueId: 1, queueOffset: 0, MSG_REGION: 'DefaultRegion' });
    expect(response.extFields?.TRACE_ON).toBe('true');
    const ns = new NamesrvClient(client);
    await waitFor(
      async () => (await ns.getRouteInfo(namesrv.addr, 'AutoTopic')) !== undefined,
      5000,
      'route',
    );
    const route = await ns.getRouteInfo(namesrv.addr, 'AutoTopic');
    expect(route?.queueDatas[0]).toMatchObject({ perm: 6, writeQueueNums: 4 });
  });

  it('refuses bad sends with the Java broker’s codes', async () => {
    const send = (topic: string, body: Buffer, defaultTopic = 'TBW102') =>
      invoke(RequestCode.SEND_MESSAGE_V2, { ...sendHeader(topic, 0), c: defaultTopic }, body);
    expect((await send('bad topic!', Buffer.from('x'))).code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect((await send('Big', Buffer.alloc(70_000))).code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect((await send('NoTemplate', Buffer.from('x'), 'SELF_TEST_TOPIC')).code).toBe(
      ResponseCode.TOPIC_NOT_EXIST,
    );
    expect((await send('TBW102', Buffer.from('x'))).code).toBe(ResponseCode.SYSTEM_ERROR);
    const missing = await invoke(RequestCode.SEND_MESSAGE_V2, { b: 'T' }, Buffer.from('x'));
    expect(missing.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(missing.remark).toMatch(/missing header field a/);
  });

  it('stores a batch as consecutive records carrying the batch-level properties, also via SEND_MESSAGE (10) long names and the VIP port', async () => {
    await createTopic(client, broker.addr, 'BatchTopic', 2);
    const body = encodeBatchBody(
      [0, 1, 2].map((i) => ({
        flag: i,
        body: Buffer.from(`batch-${i}`),
        properties: encodeProperties({ UNIQ_KEY: `U${i}`, TAGS: 'B' }),
      })),
    );
    const response = await invoke(
      RequestCode.SEND_BATCH_MESSAGE,
      { ...sendHeader('BatchTopic', 0), m: 'true' },
      body,
    );
    expect(response.code).toBe(ResponseCode.SUCCESS);
    const h = SendMessageResponseHeader.decode(response.extFields);
    expect(h.msgId.split(',')).toHaveLength(3);
    expect(h.queueOffset).toBe(0);

    const v1 = await invoke(
      RequestCode.SEND_MESSAGE,
      SendMessageRequestHeader.encode({
        producerGroup: 'PG',
        topic: 'BatchTopic',
        defaultTopic: 'TBW102',
        defaultTopicQueueNums: 4,
        queueId: 0,
        sysFlag: 0,
        bornTimestamp: Date.now(),
        flag: 0,
      }),
      Buffer.from('single'),
      `127.0.0.1:${broker.port - 2}`,
    );
    expect(v1.code).toBe(ResponseCode.SUCCESS);
    expect(SendMessageResponseHeader.decode(v1.extFields).queueOffset).toBe(3);

    const pull = await invoke(RequestCode.PULL_MESSAGE, pullHeader('BatchTopic', 0, 0));
    expect(pull.code).toBe(ResponseCode.SUCCESS);
    const records = decodeRecords(pull.body!);
    expect(records.map((r) => r.body.toString())).toEqual([
      'batch-0',
      'batch-1',
      'batch-2',
      'single',
    ]);
    expect(records.map((r) => r.queueOffset)).toEqual([0, 1, 2, 3]);
    expect(records[1].properties.get('UNIQ_KEY')).toBe('U1');
    expect(records[1].properties.get('CLUSTER')).toBe('DefaultCluster');
    expect(records[1].flag).toBe(1);
    expect(PullMessageResponseHeader.decode(pull.extFields)).toEqual({
      suggestWhichBrokerId: 0,
      nextBeginOffset: 4,
      minOffset: 0,
      maxOffset: 4,
    });
  });

  it('answers pulls per the status table and filters by tag', async () => {
    await createTopic(client, broker.addr, 'PullTopic', 1);
    for (const tag of ['TagA', 'TagB', 'TagA']) {
      await invoke(
        RequestCode.SEND_MESSAGE_V2,
        sendHeader('PullTopic', 0, { TAGS: tag }),
        Buffer.from(tag),
      );
    }
    const pull = (offset: number, extra = {}) =>
      invoke(RequestCode.PULL_MESSAGE, pullHeader('PullTopic', 0, offset, extra));
    const header = (r: RemotingCommand) => PullMessageResponseHeader.decode(r.extFields);

    const tagB = await pull(0, { subscription: 'TagB' });
    expect(tagB.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(tagB.body!).map((r) => r.queueOffset)).toEqual([1]);
    expect(header(tagB).nextBeginOffset).toBe(3);

    const noMatch = await pull(2, { subscription: 'TagB' });
    expect(noMatch.code).toBe(ResponseCode.PULL_RETRY_IMMEDIATELY);
    expect(header(noMatch).nextBeginOffset).toBe(3);

    const caughtUp = await pull(3);
    expect(caughtUp.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(header(caughtUp)).toMatchObject({ nextBeginOffset: 3, minOffset: 0, maxOffset: 3 });

    const tooFar = await pull(10);
    expect(tooFar.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    // Java corrects to the min offset while it is still 0, else to the max offset.
    expect(header(tooFar).nextBeginOffset).toBe(0);

    const emptyQueue = await invoke(RequestCode.PULL_MESSAGE, pullHeader('AutoTopic', 3, 0));
    expect(emptyQueue.code).toBe(ResponseCode.PULL_NOT_FOUND);

    expect((await invoke(RequestCode.PULL_MESSAGE, pullHeader('NoSuchTopic', 0, 0))).code).toBe(
      ResponseCode.TOPIC_NOT_EXIST,
    );
    expect((await invoke(RequestCode.PULL_MESSAGE, pullHeader('PullTopic', 5, 0))).code).toBe(
      ResponseCode.SYSTEM_ERROR,
    );
    // Without the subscription bit the group must have sent a heartbeat.
    expect((await pull(0, { sysFlag: 0 })).code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
  });

  it('holds a pull until a message arrives, and answers PULL_NOT_FOUND when the suspend time is up', async () => {
    await createTopic(client, broker.addr, 'LongPoll', 1);
    const started = Date.now();
    const held = invoke(
      RequestCode.PULL_MESSAGE,
      pullHeader('LongPoll', 0, 0, { sysFlag: 0x6, suspendTimeoutMillis: 4000 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await invoke(RequestCode.SEND_MESSAGE_V2, sendHeader('LongPoll', 0), Buffer.from('wake'));
    const woken = await held;
    expect(woken.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(woken.body!)[0].body.toString()).toBe('wake');
    expect(Date.now() - started).toBeLessThan(3000);

    const t0 = Date.now();
    const expired = await invoke(
      RequestCode.PULL_MESSAGE,
      pullHeader('LongPoll', 0, 1, { sysFlag: 0x6, suspendTimeoutMillis: 400 }),
    );
    expect(expired.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it('tracks group members from heartbeats, notifies them of changes and drops closed connections', async () => {
    await createTopic(client, broker.addr, 'GroupTopic', 4);
    const notified: string[] = [];
    const memberA = new RemotingClient({
      logger,
      onRequest: (request) => {
        if (request.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) {
          notified.push(request.extFields?.consumerGroup ?? '');
        }
        return undefined;
      },
    });
    const memberB = new RemotingClient({ logger });
    try {
      const beat = (c: RemotingClient, id: string) =>
        c.invoke(
          broker.addr,
          createRequest(
            RequestCode.HEART_BEAT,
            undefined,
            encodeJsonBody(heartbeat(id, 'GRP', 'GroupTopic')),
          ),
        );
      expect((await beat(memberA, 'A@1')).code).toBe(ResponseCode.SUCCESS);
      expect((await beat(memberB, 'B@2')).code).toBe(ResponseCode.SUCCESS);
      const list = async () => {
        const r = await invoke(
          RequestCode.GET_CONSUMER_LIST_BY_GROUP,
          GetConsumerListByGroupRequestHeader.encode({ consumerGroup: 'GRP' }),
        );
        return r.code === ResponseCode.SUCCESS
          ? decodeConsumerListBody(r.body).consumerIdList.sort()
          : [];
      };
      expect(await list()).toEqual(['A@1', 'B@2']);
      await waitFor(() => notified.length >= 2, 3000, 'NOTIFY_CONSUMER_IDS_CHANGED');

      // Pulls without the subscription bit now use the heartbeat's subscription.
      const pull = await invoke(RequestCode.PULL_MESSAGE, {
        ...pullHeader('GroupTopic', 0, 0, { sysFlag: 0 }),
        consumerGroup: 'GRP',
      });
      expect(pull.code).toBe(ResponseCode.PULL_NOT_FOUND);

      // Orderly-consumption locks: one holder at a time.
      const mq = { brokerName: 'broker-a', queueId: 0, topic: 'GroupTopic' };
      const lock = async (c: RemotingClient, clientId: string) =>
        decodeLockBatchResponseBody(
          (
            await c.invoke(
              broker.addr,
              createRequest(
                RequestCode.LOCK_BATCH_MQ,
                undefined,
                encodeJsonBody({ clientId, consumerGroup: 'GRP', mqSet: [mq] }),
              ),
            )
          ).body,
        ).lockOKMQSet;
      expect(await lock(memberA, 'A@1')).toEqual([mq]);
      expect(await lock(memberB, 'B@2')).toEqual([]);
      await memberA.invoke(
        broker.addr,
        createRequest(
          RequestCode.UNLOCK_BATCH_MQ,
          undefined,
          encodeJsonBody({ clientId: 'A@1', consumerGroup: 'GRP', mqSet: [mq] }),
        ),
      );
      expect(await lock(memberB, 'B@2')).toEqual([mq]);

      const before = notified.length;
      memberB.close();
      await waitFor(async () => (await list()).length === 1, 3000, 'member B to leave');
      expect(await list()).toEqual(['A@1']);
      await waitFor(() => notified.length > before, 3000, 'notification of B leaving');
    } finally {
      memberA.close();
      memberB.close();
    }
  });

  it('finds messages by key and by offsetMsgId, and answers the admin statistics', async () => {
    await createTopic(client, broker.addr, 'QueryTopic', 1);
    const sent = await invoke(
      RequestCode.SEND_MESSAGE_V2,
      sendHeader('QueryTopic', 0, { KEYS: 'order-7 other', TAGS: 'T' }),
      Buffer.from('findme'),
    );
    const { msgId } = SendMessageResponseHeader.decode(sent.extFields);
    const byKey = await invoke(
      RequestCode.QUERY_MESSAGE,
      QueryMessageRequestHeader.encode({
        topic: 'QueryTopic',
        key: 'order-7',
        maxNum: 32,
        beginTimestamp: 0,
        endTimestamp: Date.now() + 60_000,
      }),
    );
    expect(byKey.code).toBe(ResponseCode.SUCCESS);
    expect(decodeRecords(byKey.body!).map((r) => r.body.toString())).toEqual(['findme']);
    const { physicalOffset } = decodeOffsetMsgId(msgId);
    const view = await invoke(
      RequestCode.VIEW_MESSAGE_BY_ID,
      ViewMessageRequestHeader.encode({ offset: physicalOffset }),
    );
    expect(decodeRecords(view.body!)[0].body.toString()).toBe('findme');

    const stats = decodeTopicStatsTable(
      (await invoke(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'QueryTopic' })).body,
    );
    expect([...stats.offsetTable.values()]).toEqual([
      expect.objectContaining({ minOffset: 0, maxOffset: 1 }),
    ]);
    const runtime = await invoke(RequestCode.GET_BROKER_RUNTIME_INFO);
    const table = (JSON.parse(runtime.body!.toString()) as { table: Record<string, string> }).table;
    expect(table.brokerVersionDesc).toBe('V4_9_8');
    expect(table.msgPutTotalTodayNow).toMatch(/^[1-9]\d*$/);
    const brokerConfig = await invoke(RequestCode.GET_BROKER_CONFIG);
    expect(brokerConfig.body!.toString()).toContain('brokerName=broker-a\n');
    expect(JSON.parse(brokerConfig.extFields!.version)).toHaveProperty('counter');
    const consume = decodeConsumeStats(
      (
        await invoke(RequestCode.GET_CONSUME_STATS, {
          consumerGroup: 'NOBODY',
          topic: 'QueryTopic',
        })
      ).body,
    );
    expect([...consume.offsetTable.values()][0]).toMatchObject({
      brokerOffset: 1,
      consumerOffset: 0,
    });
    expect(
      (await invoke(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'NOBODY' })).code,
    ).toBe(ResponseCode.CONSUMER_NOT_ONLINE);
  });

  it('answers malformed bodies and headers with SYSTEM_ERROR and keeps serving', async () => {
    const bad = await invoke(RequestCode.HEART_BEAT, undefined, Buffer.from('{"clientID":'));
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toMatch(/HeartbeatData: body is not JSON/);
    const lock = await invoke(RequestCode.LOCK_BATCH_MQ, undefined, Buffer.from('{"mqSet":3}'));
    expect(lock.code).toBe(ResponseCode.SYSTEM_ERROR);
    const batch = await invoke(
      RequestCode.SEND_BATCH_MESSAGE,
      { ...sendHeader('AutoTopic', 0), m: 'true' },
      Buffer.from([0, 0, 0, 30, 1, 2, 3]),
    );
    expect(batch.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    const pull = await invoke(RequestCode.PULL_MESSAGE, { topic: 'AutoTopic', queueId: 'x' });
    expect(pull.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect((await invoke(9999)).code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    const ok = await invoke(
      RequestCode.GET_MAX_OFFSET,
      QueueRequestHeader.encode({ topic: 'AutoTopic', queueId: 1 }),
    );
    expect(OffsetResponseHeader.decode(ok.extFields).offset).toBe(1);
  });

  it('serves metrics, liveness and readiness over HTTP', async () => {
    const base = `http://127.0.0.1:${broker.httpPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/rmqts_broker_messages_put_total\{[^}]*topic="AutoTopic"[^}]*\} 1/);
    expect(metrics).toMatch(
      /rmqts_broker_request_duration_seconds_count\{[^}]*code="SEND_MESSAGE_V2"/,
    );
    expect(metrics).toMatch(/rmqts_broker_connections\{[^}]*\} [1-9]/);
  });

  it('commits, queries and persists consumer offsets and answers queue offset queries', async () => {
    await createTopic(client, broker.addr, 'OffsetTopic', 2);
    for (let i = 0; i < 3; i++) {
      await invoke(RequestCode.SEND_MESSAGE_V2, sendHeader('OffsetTopic', 1), Buffer.from(`o${i}`));
    }
    const queue = QueueRequestHeader.encode({ topic: 'OffsetTopic', queueId: 1 });
    const offsetOf = (r: RemotingCommand) => OffsetResponseHeader.decode(r.extFields).offset;
    expect(offsetOf(await invoke(RequestCode.GET_MAX_OFFSET, queue))).toBe(3);
    expect(offsetOf(await invoke(RequestCode.GET_MIN_OFFSET, queue))).toBe(0);
    const earliest = await invoke(RequestCode.GET_EARLIEST_MSG_STORETIME, queue);
    expect(Number(earliest.extFields?.timestamp)).toBeGreaterThan(0);
    const search = await invoke(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, {
      ...queue,
      timestamp: '0',
    });
    expect(offsetOf(search)).toBe(0);

    const query = (queueId: number) =>
      invoke(
        RequestCode.QUERY_CONSUMER_OFFSET,
        QueryConsumerOffsetRequestHeader.encode({
          consumerGroup: 'OG',
          topic: 'OffsetTopic',
          queueId,
        }),
      );
    // Nothing committed on a young queue: offset 0, as the Java broker answers.
    expect(offsetOf(await query(1))).toBe(0);
    await invoke(
      RequestCode.UPDATE_CONSUMER_OFFSET,
      UpdateConsumerOffsetRequestHeader.encode({
        consumerGroup: 'OG',
        topic: 'OffsetTopic',
        queueId: 1,
        commitOffset: 2,
      }),
    );
    expect(offsetOf(await query(1))).toBe(2);
    // Offsets and lag per group and queue on /metrics: 3 stored, 2 consumed.
    const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    const series = (name: string) =>
      new RegExp(`${name}\\{[^}]*group="OG",topic="OffsetTopic",queueId="1"[^}]*\\} (\\d+)`);
    expect(metrics.match(series('rmqts_broker_consumer_offset'))?.[1]).toBe('2');
    expect(metrics.match(series('rmqts_broker_consumer_queue_lag_messages'))?.[1]).toBe('1');
    // A pull with the commit bit commits too; negative commits are ignored.
    await invoke(RequestCode.PULL_MESSAGE, {
      ...pullHeader('OffsetTopic', 0, 0, { sysFlag: 0x5 }),
      consumerGroup: 'OG',
      commitOffset: '-1',
    });
    await invoke(RequestCode.PULL_MESSAGE, {
      ...pullHeader('OffsetTopic', 1, 3, { sysFlag: 0x5 }),
      consumerGroup: 'OG',
      commitOffset: '3',
    });
    expect(offsetOf(await query(1))).toBe(3);

    // A clean restart keeps topics and offsets.
    expect(await broker.stop()).toBe(0);
    broker = await startBroker(
      namesrv.addr,
      { maxMessageSize: 65536, listenPort: broker.port },
      broker.dataDir,
    );
    expect(offsetOf(await query(1))).toBe(3);
    expect(offsetOf(await invoke(RequestCode.GET_MAX_OFFSET, queue))).toBe(3);
  });
});
