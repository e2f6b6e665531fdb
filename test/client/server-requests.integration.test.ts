/**
 * Requests a broker sends to a push consumer (remoting.md §3.8). Our broker does not issue
 * RESET_CONSUMER_CLIENT_OFFSET or GET_CONSUMER_RUNNING_INFO yet, so a stand-in broker — a real
 * RemotingServer registered with a real name server — plays that side of the protocol.
 */
import { NamesrvClient } from '../../client/namesrv-client';
import { PushConsumer } from '../../client/push-consumer';
import type { RemotingClient } from '../../common/net/client';
import type { Connection } from '../../common/net/connection';
import { encodeResetOffsetBody, parseFastjson } from '../../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest, createResponse, type RemotingCommand } from '../../common/protocol/command';
import {
  OffsetResponseHeader,
  PullMessageRequestHeader,
  QueryConsumerOffsetRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../common/protocol/headers';
import { newClient, startServer, type TestServer, waitFor } from '../helpers/remoting';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';
import { silent } from './cluster';

const topic = 'ServerRequestTopic';
const group = 'server-request-group';
let namesrv: RunningNamesrv;
let broker: TestServer;
let clientConnection: Connection | undefined;
const pulls: { queueId: number; queueOffset: number }[] = [];
const commits: { queueId: number; commitOffset: number }[] = [];
let consumerListCalls = 0;
let clientId = '';
let registration: RemotingClient | undefined;

beforeAll(async () => {
  namesrv = await startNamesrv();
  const ok = (request: RemotingCommand) => createResponse(request, ResponseCode.SUCCESS);
  broker = await startServer((server) => {
    server
      .register(RequestCode.HEART_BEAT, (request, connection) => {
        clientConnection = connection;
        return ok(request);
      })
      .register(RequestCode.UNREGISTER_CLIENT, ok)
      .register(RequestCode.GET_CONSUMER_LIST_BY_GROUP, (request) => {
        consumerListCalls++;
        return createResponse(request, ResponseCode.SUCCESS, {
          body: Buffer.from(JSON.stringify({ consumerIdList: [clientId] })),
        });
      })
      // Committed offsets, 5 where nothing was committed.
      .register(RequestCode.QUERY_CONSUMER_OFFSET, (request) => {
        const { queueId } = QueryConsumerOffsetRequestHeader.decode(request.extFields);
        const committed = commits.filter((c) => c.queueId === queueId).at(-1);
        return createResponse(request, ResponseCode.SUCCESS, {
          extFields: OffsetResponseHeader.encode({ offset: committed?.commitOffset ?? 5 }),
        });
      })
      .register(RequestCode.UPDATE_CONSUMER_OFFSET, (request) => {
        const h = UpdateConsumerOffsetRequestHeader.decode(request.extFields);
        commits.push({ queueId: h.queueId, commitOffset: h.commitOffset });
        return ok(request);
      })
      // Pulls are recorded and held, as a broker holds a pull when there is nothing new.
      .register(RequestCode.PULL_MESSAGE, (request) => {
        const h = PullMessageRequestHeader.decode(request.extFields);
        pulls.push({ queueId: h.queueId, queueOffset: h.queueOffset });
        return new Promise<undefined>(() => undefined);
      });
  });
  // The registration lasts as long as its connection: the name server drops a broker whose
  // connection closes.
  registration = newClient();
  await new NamesrvClient(registration).registerBroker(
    namesrv.addr,
    {
      brokerName: 'stand-in',
      brokerAddr: broker.address,
      clusterName: 'DefaultCluster',
      haServerAddr: broker.address,
      brokerId: 0,
    },
    {
      filterServerList: [],
      topicConfigSerializeWrapper: {
        dataVersion: { counter: 1, timestamp: Date.now() },
        topicConfigTable: {
          [topic]: {
            order: false,
            perm: 6,
            readQueueNums: 2,
            topicFilterType: 'SINGLE_TAG',
            topicName: topic,
            topicSysFlag: 0,
            writeQueueNums: 2,
          },
        },
      },
    },
  );
});

afterAll(async () => {
  registration?.close();
  await broker?.server.close();
  await namesrv?.stop();
  if (namesrv) removeDir(namesrv.dataDir);
});

test('the consumer answers NOTIFY_CONSUMER_IDS_CHANGED, RESET_CONSUMER_CLIENT_OFFSET and GET_CONSUMER_RUNNING_INFO', async () => {
  const consumer = new PushConsumer({
    namesrvAddr: namesrv.addr,
    consumerGroup: group,
    logger: silent,
  });
  consumer.subscribe(topic, 'TagA');
  consumer.listenConcurrently(() => 'CONSUME_SUCCESS');
  clientId = consumer.clientId;
  await consumer.start();
  try {
    // Clustering subscribes the retry topic too, which the stand-in does not route.
    await waitFor(() => pulls.length === 2, 5000, 'a pull per queue');
    expect(pulls.map((p) => p.queueOffset)).toEqual([5, 5]);
    const connection = clientConnection!;

    const info = await connection.invoke(
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, {
        consumerGroup: group,
        clientId,
        jstackEnable: 'false',
      }),
      3000,
    );
    expect(info.code).toBe(ResponseCode.SUCCESS);
    const body = parseFastjson(info.body!.toString()) as {
      properties: Record<string, string>;
      subscriptionSet: { topic: string; subString: string }[];
      mqTable: Record<string, unknown>;
    };
    expect(body.properties.PROP_CONSUME_TYPE).toBe('CONSUME_PASSIVELY');
    expect(body.properties.messageModel).toBe('CLUSTERING');
    expect(body.subscriptionSet).toContainEqual(
      expect.objectContaining({ topic, subString: 'TagA' }),
    );
    expect(Object.keys(body.mqTable)).toHaveLength(2);

    const otherGroup = await connection.invoke(
      createRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: 'other', clientId }),
      3000,
    );
    expect(otherGroup.code).toBe(ResponseCode.SYSTEM_ERROR);

    // Offsets reset by the broker: queue 1 restarts pulling at 42.
    connection.invokeOneway(
      createRequest(
        RequestCode.RESET_CONSUMER_CLIENT_OFFSET,
        { topic, group, timestamp: '0', isForce: 'true' },
        encodeResetOffsetBody({
          offsetTable: new Map([[{ brokerName: 'stand-in', queueId: 1, topic }, 42]]),
        }),
      ),
    );
    await waitFor(
      () => pulls.some((p) => p.queueId === 1 && p.queueOffset === 42),
      5000,
      'a pull from the reset offset',
    );
    expect(commits).toContainEqual({ queueId: 1, commitOffset: 42 });

    // Membership changed: the consumer asks for the group's members again at once.
    const before = consumerListCalls;
    connection.invokeOneway(
      createRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group }),
    );
    await waitFor(() => consumerListCalls > before, 5000, 'a rebalance');
  } finally {
    await consumer.shutdown().catch(() => undefined);
  }
}, 30_000);
