import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { freePort } from '../../common/net/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamesrvClient } from '../../client/namesrv-client';
import { createLogger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import { crc32 } from '../../common/message/crc32';
import {
  encodeJsonBody,
  type RegisterBrokerBody,
  type TopicConfig,
} from '../../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { removeDir, startCli, startNamesrv, type RunningNamesrv } from '../support/processes';
import { topicConfig as topic, topicTable } from './fixtures';

// ali-ons is plain JavaScript without types; these are the parts of it the test drives.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MQClientAPI = require('ali-ons/lib/mq_client_api') as new (options: object) => {
  ready(): Promise<void>;
  close(): Promise<void>;
  getTopicRouteInfoFromNameServer(topic: string, timeout: number): Promise<AliRoute>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MQClient = require('ali-ons/lib/mq_client') as {
  prototype: {
    _topicRouteData2TopicPublishInfo(
      topic: string,
      route: AliRoute,
    ): { messageQueueList: AliQueue[] };
    _topicRouteData2TopicSubscribeInfo(topic: string, route: AliRoute): AliQueue[];
  };
};
interface AliQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}
interface AliRoute {
  brokerDatas: { brokerName: string; brokerAddrs: Record<string, string> }[];
  queueDatas: { brokerName: string; perm: number; readQueueNums: number; writeQueueNums: number }[];
}

const logger = createLogger('test', 'silent');

function body(topics: TopicConfig[], counter = 1): RegisterBrokerBody {
  return { filterServerList: [], topicConfigSerializeWrapper: topicTable(topics, counter) };
}

/** A pretend broker: its own connection to the name server, as a real broker has. */
function fakeBroker(
  brokerName: string,
  brokerAddr: string,
  brokerId = 0,
  clusterName = 'DefaultCluster',
) {
  const remoting = new RemotingClient({ logger });
  const client = new NamesrvClient(remoting);
  const identity = { brokerName, brokerAddr, clusterName, brokerId };
  return {
    identity,
    register: (ns: string, topics: TopicConfig[], counter = 1) =>
      client.registerBroker(
        ns,
        { ...identity, haServerAddr: brokerAddr.replace(/:\d+$/, ':10912'), compressed: false },
        body(topics, counter),
      ),
    unregister: (ns: string) => client.unregisterBroker(ns, identity),
    connection: (ns: string) => remoting.connection(ns),
    disconnect: () => remoting.close(),
  };
}

describe('name server process', () => {
  let ns: RunningNamesrv;
  const remoting = new RemotingClient({ logger });
  const admin = new NamesrvClient(remoting);

  beforeAll(async () => {
    ns = await startNamesrv({ scanNotActiveBrokerInterval: 200, brokerChannelExpiredTime: 1500 });
  });
  afterAll(async () => {
    remoting.close();
    await ns.stop();
    removeDir(ns.dataDir);
  });

  it('serves the routes that brokers registered, to our client and to ali-ons', async () => {
    const a = fakeBroker('broker-a', '127.0.0.1:10911');
    const b = fakeBroker('broker-b', '127.0.0.1:20911');
    const aSlave = fakeBroker('broker-a', '127.0.0.1:10921', 1);
    try {
      expect(await a.register(ns.addr, [topic('TopicTest', 4), topic('TBW102', 8, 7)])).toEqual({});
      await b.register(ns.addr, [topic('TopicTest', 2)]);
      // A slave learns its master's address; its own topic table is ignored.
      expect(await aSlave.register(ns.addr, [topic('OnlyOnSlave')])).toEqual({
        masterAddr: '127.0.0.1:10911',
        haServerAddr: '127.0.0.1:10912',
      });

      const route = await admin.getRouteInfo(ns.addr, 'TopicTest');
      expect(route?.queueDatas.map((q) => [q.brokerName, q.writeQueueNums, q.perm]).sort()).toEqual(
        [
          ['broker-a', 4, 6],
          ['broker-b', 2, 6],
        ],
      );
      const brokerA = route?.brokerDatas.find((d) => d.brokerName === 'broker-a');
      expect(brokerA).toEqual({
        brokerAddrs: { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' },
        brokerName: 'broker-a',
        cluster: 'DefaultCluster',
      });
      expect(await admin.getRouteInfo(ns.addr, 'OnlyOnSlave')).toBeUndefined();
      expect(await admin.getRouteInfo(ns.addr, 'NoSuchTopic')).toBeUndefined();

      // The same bytes through ali-ons: its socket, its JSON2 parser, its queue derivation.
      const quiet = { info() {}, warn() {}, error() {}, debug() {} };
      const ali = new MQClientAPI({ nameSrv: ns.addr, httpclient: {}, logger: quiet });
      await ali.ready();
      try {
        const aliRoute = await ali.getTopicRouteInfoFromNameServer('TopicTest', 3000);
        const publish = MQClient.prototype._topicRouteData2TopicPublishInfo('TopicTest', aliRoute);
        expect(publish.messageQueueList.map((q) => `${q.brokerName}/${q.queueId}`)).toEqual([
          'broker-a/0',
          'broker-a/1',
          'broker-a/2',
          'broker-a/3',
          'broker-b/0',
          'broker-b/1',
        ]);
        expect(
          MQClient.prototype._topicRouteData2TopicSubscribeInfo('TopicTest', aliRoute),
        ).toHaveLength(6);
        await expect(
          ali.getTopicRouteInfoFromNameServer('NoSuchTopic', 3000),
        ).rejects.toMatchObject({ code: 17 });
      } finally {
        await ali.close();
      }

      const cluster = await admin.getClusterInfo(ns.addr);
      expect(cluster.clusterAddrTable.DefaultCluster.sort()).toEqual(['broker-a', 'broker-b']);
      expect((await admin.getAllTopics(ns.addr)).sort()).toEqual(['TBW102', 'TopicTest']);
      expect((await admin.getTopicsByCluster(ns.addr, 'DefaultCluster')).sort()).toEqual([
        'TBW102',
        'TopicTest',
      ]);

      // Draining a group: its queues lose WRITE, so producers stop choosing them.
      expect(await admin.wipeWritePerm(ns.addr, 'broker-b')).toBe(1);
      const drained = await admin.getRouteInfo(ns.addr, 'TopicTest');
      expect(drained?.queueDatas.find((q) => q.brokerName === 'broker-b')?.perm).toBe(4);
      expect(await admin.addWritePerm(ns.addr, 'broker-b')).toBe(1);

      // Unregistering the only address of a group removes the group and its queues.
      await b.unregister(ns.addr);
      const afterB = await admin.getRouteInfo(ns.addr, 'TopicTest');
      expect(afterB?.queueDatas.map((q) => q.brokerName)).toEqual(['broker-a']);

      // Losing the master keeps the group's queues routed through the slave (consumers go on).
      await a.unregister(ns.addr);
      const slaveOnly = await admin.getRouteInfo(ns.addr, 'TopicTest');
      expect(slaveOnly?.brokerDatas[0].brokerAddrs).toEqual({ '1': '127.0.0.1:10921' });

      await admin.deleteTopic(ns.addr, 'TopicTest');
      expect(await admin.getRouteInfo(ns.addr, 'TopicTest')).toBeUndefined();
    } finally {
      a.disconnect();
      b.disconnect();
      aSlave.disconnect();
    }
  });

  it('drops a broker at once when its connection closes', async () => {
    const c = fakeBroker('broker-c', '127.0.0.1:30911');
    await c.register(ns.addr, [topic('ClosedTopic')]);
    expect(await admin.getRouteInfo(ns.addr, 'ClosedTopic')).toBeDefined();
    c.disconnect();
    await waitFor(async () => (await admin.getRouteInfo(ns.addr, 'ClosedTopic')) === undefined);
  });

  it('expires a broker that stops registering though its connection is open, and closes it', async () => {
    const d = fakeBroker('broker-d', '127.0.0.1:40911');
    try {
      await d.register(ns.addr, [topic('SilentTopic')]);
      const connection = await d.connection(ns.addr);
      const registeredAt = Date.now();
      await waitFor(async () => (await admin.getRouteInfo(ns.addr, 'SilentTopic')) === undefined);
      // brokerChannelExpiredTime is 1500 ms in this test.
      expect(Date.now() - registeredAt).toBeGreaterThanOrEqual(1400);
      // The log line travels through the process's stdout pipe: it may trail the route change.
      await ns.waitForLog(
        (l) =>
          l.msg?.toString().startsWith('broker expired') === true &&
          l.brokerAddr === '127.0.0.1:40911',
        5000,
      );
      // Like Java, the name server closes the silent broker's connection; the broker's next
      // registration reconnects and brings the route back.
      await waitFor(() => Promise.resolve(connection.isClosed));
      await d.register(ns.addr, [topic('SilentTopic')]);
      expect(await admin.getRouteInfo(ns.addr, 'SilentTopic')).toBeDefined();
    } finally {
      d.disconnect();
    }
  });

  it('keeps KV config across a restart', async () => {
    await admin.putKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'OrderTopic', 'broker-a:4');
    await admin.putKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'Gone', 'x');
    await admin.deleteKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'Gone');
    expect(await ns.stop()).toBe(0);
    ns = await startNamesrv(
      { scanNotActiveBrokerInterval: 200, brokerChannelExpiredTime: 1500 },
      ns.dataDir,
    );
    expect(await admin.getKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'OrderTopic')).toBe('broker-a:4');
    expect(await admin.getKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'Gone')).toBeUndefined();
    expect(await admin.getKVList(ns.addr, 'ORDER_TOPIC_CONFIG')).toEqual({
      OrderTopic: 'broker-a:4',
    });
  });

  it('checks the body CRC of a registration and answers with the order-topic KV table', async () => {
    const identity = {
      brokerName: 'broker-crc',
      brokerAddr: '127.0.0.1:60911',
      clusterName: 'DefaultCluster',
      brokerId: '0',
      haServerAddr: '127.0.0.1:60912',
    };
    const registration = encodeJsonBody(body([topic('CrcTopic')]));
    const register = (bodyCrc32: number) =>
      remoting.invoke(
        ns.addr,
        createRequest(
          RequestCode.REGISTER_BROKER,
          { ...identity, bodyCrc32: String(bodyCrc32) },
          registration,
        ),
      );
    const wrong = await register((crc32(registration) + 1) & 0x7fffffff);
    expect([wrong.code, wrong.remark]).toEqual([ResponseCode.SYSTEM_ERROR, 'crc32 not match']);
    expect(await admin.getRouteInfo(ns.addr, 'CrcTopic')).toBeUndefined();

    await admin.putKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'CrcTopic', 'broker-crc:4');
    const right = await register(crc32(registration));
    expect(right.code).toBe(ResponseCode.SUCCESS);
    expect(JSON.parse(right.body!.toString())).toMatchObject({
      table: { CrcTopic: 'broker-crc:4' },
    });
    expect(await admin.getRouteInfo(ns.addr, 'CrcTopic')).toBeDefined();
    await admin.deleteKVConfig(ns.addr, 'ORDER_TOPIC_CONFIG', 'CrcTopic');
    await remoting.invoke(
      ns.addr,
      createRequest(RequestCode.UNREGISTER_BROKER, {
        brokerName: identity.brokerName,
        brokerAddr: identity.brokerAddr,
        clusterName: identity.clusterName,
        brokerId: '0',
      }),
    );
  });

  it('serves /metrics, /healthz and /readyz', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${ns.httpPort}/metrics`)).text();
    expect(metrics).toContain('rmqts_namesrv_live_brokers');
    expect(metrics).toContain('process_resident_memory_bytes');
    expect((await fetch(`http://127.0.0.1:${ns.httpPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ns.httpPort}/readyz`)).status).toBe(200);
  });
});

describe('several name servers side by side', () => {
  it('know nothing of each other: a broker registers with each', async () => {
    const [ns1, ns2] = await Promise.all([startNamesrv(), startNamesrv()]);
    const remoting = new RemotingClient({ logger });
    const admin = new NamesrvClient(remoting);
    const e = fakeBroker('broker-e', '127.0.0.1:50911');
    try {
      await e.register(ns1.addr, [topic('OnlyOne')]);
      expect(await admin.getRouteInfo(ns1.addr, 'OnlyOne')).toBeDefined();
      expect(await admin.getRouteInfo(ns2.addr, 'OnlyOne')).toBeUndefined();
      await e.register(ns2.addr, [topic('OnlyOne')]);
      expect(await admin.getRouteInfo(ns2.addr, 'OnlyOne')).toBeDefined();
    } finally {
      e.disconnect();
      remoting.close();
      expect(await ns1.stop()).toBe(0);
      expect(await ns2.stop()).toBe(0);
      removeDir(ns1.dataDir);
      removeDir(ns2.dataDir);
    }
  });
});

describe('name server configuration', () => {
  it('reads -c namesrv.conf, then RMQ_* environment variables, then --flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rmqts-namesrv-conf-'));
    const [filePort, envHttpPort] = await Promise.all([freePort(), freePort()]);
    const conf = join(dir, 'namesrv.conf');
    writeFileSync(
      conf,
      [
        '# a namesrv.conf as RocketMQ users write them',
        `listenPort=${filePort}`,
        'httpPort=1',
        'bindAddress=127.0.0.1',
        `kvConfigPath=${join(dir, 'from-file.json')}`,
        'notARealKey=1',
      ].join('\n'),
    );
    const proc = startCli(
      ['namesrv', '-c', conf, `--kvConfigPath=${join(dir, 'from-flag.json')}`],
      {
        RMQ_HTTP_PORT: String(envHttpPort),
      },
    );
    const remoting = new RemotingClient({ logger });
    try {
      const started = await proc.waitForLog((l) => l.msg === 'name server started');
      expect(started).toMatchObject({ port: filePort, httpPort: envHttpPort });
      expect(proc.logs.find((l) => l.msg === 'ignoring unknown config keys')).toMatchObject({
        unknownKeys: ['notARealKey'],
      });
      await new NamesrvClient(remoting).putKVConfig(`127.0.0.1:${filePort}`, 'NS', 'k', 'v');
      expect(existsSync(join(dir, 'from-flag.json'))).toBe(true);
      expect(existsSync(join(dir, 'from-file.json'))).toBe(false);
    } finally {
      remoting.close();
      // SIGTERM: a clean stop with exit code 0 and a last log line.
      expect(await proc.stop()).toBe(0);
      removeDir(dir);
    }
    expect(proc.logs.some((l) => l.msg === 'name server stopped')).toBe(true);
  });

  it('refuses a bad config value with a clear error and exit code 1', async () => {
    const proc = startCli(['namesrv', '--listenPort=notAPort']);
    let stderr = '';
    proc.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => proc.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/listenPort/);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
