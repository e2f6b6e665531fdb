import type { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { AdminClient } from '../../client/admin-client';
import { BrokerConfigClient } from '../../client/broker-config-client';
import { HaAdminClient } from '../../client/ha-admin';
import { Producer } from '../../client/producer';
import { createLogger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import type { RocketMQCluster } from '../../operator/api/types';
import { ROLE_LABEL } from '../../operator/reconcile/names';
import { readAll } from '../ha/support';
import type { LocalKubelet } from '../support/kube-kubelet';
import { mergePatch } from '../support/kube-workloads';
import { eventually } from './kube-wait';
import { startLiveOperator, type LiveOperator } from './live-operator';

/**
 * One cluster's life on Kubernetes, end to end: the operator in process against the test API
 * server, the pods running real namesrv and broker processes (LocalKubelet), our producer
 * sending. The tests run in order on the same cluster: the master's node goes down (SIGKILL) and
 * the slave must become master, recorded in status with a new epoch, labelled, announced by an
 * Event and counted, the old master following when back; NameServers scale both ways without a
 * broker restart; a new group gets the topics; a removed group is made read-only, blocked by
 * unconsumed messages, and removed with the force annotation.
 */

jest.setTimeout(120_000);

const NS = 'fo';
const coords = {
  group: 'rocketmq-ts.dev',
  version: 'v1alpha1',
  namespace: NS,
  plural: 'rocketmqclusters',
};
const TOPIC = 'KubeFailoverTopic';
const silent = createLogger('failover-e2e', 'silent');

let live: LiveOperator;
let kubelet: LocalKubelet;
let custom: CustomObjectsApi;
let core: CoreV1Api;
let apps: AppsV1Api;
const ha = new HaAdminClient(silent, 500);
const remoting = new RemotingClient({ logger: silent });
let producer: Producer | undefined;

beforeAll(async () => {
  live = await startLiveOperator(NS, silent);
  ({ kubelet, custom, core, apps } = live);
});

afterAll(async () => {
  await producer?.shutdown();
  ha.close();
  remoting.close();
  await live?.stop();
});

const getCluster = () => live.getCluster('ha');
const addrOf = (cluster: RocketMQCluster, ordinal: number) => live.brokerAddr(cluster, ordinal);
const podLabel = async (pod: string) =>
  (await core.readNamespacedPod({ namespace: NS, name: pod })).metadata?.labels?.[ROLE_LABEL];

async function sendSome(p: Producer, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await p.send({
      topic: TOPIC,
      body: Buffer.from(`${prefix}-${i}`),
      keys: `${prefix}-${i}`,
    });
    expect(r.sendStatus).toBe('SEND_OK');
  }
}

test('a master pod lost: the in-sync slave takes over, recorded in status, and the old master rejoins as slave', async () => {
  await live.createPairCluster('ha', 'SYNC');
  // Ready, and a master elected (epoch recorded) by the operator's failover controller.
  const ready = await eventually(
    'cluster ready with an elected master',
    async () => {
      const c = await getCluster();
      const group = c.status?.groups?.[0];
      const isReady = c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      return isReady && group && group.epoch > 0 ? c : undefined;
    },
    60_000,
  );
  const first = ready.status!.groups![0];
  const masterOrdinal = Number(first.masterPod.slice(-1));
  const slaveOrdinal = 1 - masterOrdinal;
  const slavePod = `ha-broker-0-${slaveOrdinal}`;
  await eventually(
    'master pod labelled',
    async () => (await podLabel(first.masterPod)) === 'master',
  );
  await eventually('slave following', async () => {
    const s = await ha.status(addrOf(ready, slaveOrdinal));
    return s.role === 'SLAVE' && s.epoch === first.epoch;
  });

  producer = await live.startProducer(ready, TOPIC, 2, 'kube-failover');
  await sendSome(producer, 'before', 20);

  // The master's node goes down.
  const killedAt = Date.now();
  await kubelet.powerOff(first.masterPod);
  const after = await eventually(
    'the slave recorded as master in a new epoch',
    async () => {
      const g = (await getCluster()).status?.groups?.[0];
      return g && g.masterPod === slavePod && g.epoch > first.epoch ? g : undefined;
    },
    30_000,
  );
  const failoverMs = Date.now() - killedAt;
  expect(failoverMs).toBeLessThan(15_000);
  // The epoch is recorded before the broker is told; it is told right after.
  await eventually(
    'the slave acts as master',
    async () => (await ha.status(addrOf(ready, slaveOrdinal))).role === 'MASTER',
  );
  const promotedMs = Date.now() - killedAt;
  process.stdout.write(`kill -> new master recorded ${failoverMs} ms, acting ${promotedMs} ms\n`);
  await eventually('new master labelled', async () => (await podLabel(slavePod)) === 'master');
  const events = (await core.listNamespacedEvent({ namespace: NS })).items.filter(
    (e) => e.involvedObject.name === 'ha',
  );
  expect(events.find((e) => e.reason === 'Failover')?.message).toBe(
    `group broker-0: ${slavePod} is master in epoch ${after.epoch}, replacing ${first.masterPod}`,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${live.operator.httpPort}/metrics`)).text();
  expect(metrics).toMatch(
    /^rmqts_operator_failovers_total\{[^}]*cluster_namespace="fo",cluster="ha",group="broker-0"[^}]*\} 1$/m,
  );

  // The node comes back: the old master's pod runs again and rejoins as a slave of the new epoch
  // (a SYNC master acknowledges only once a slave has the bytes, so sends wait for it).
  await kubelet.powerOn(first.masterPod);
  await eventually(
    'old master follows the new one',
    async () => {
      const s = await ha.status(addrOf(ready, masterOrdinal));
      return (
        s.role === 'SLAVE' &&
        s.epoch === after.epoch &&
        s.masterAddr === addrOf(ready, slaveOrdinal)
      );
    },
    30_000,
  );
  await eventually(
    'sends through the new master',
    async () => {
      await sendSome(producer!, 'after', 1);
      return true;
    },
    20_000,
  );
  await sendSome(producer, 'after-more', 20);
  // Nothing acknowledged before the failover is missing on the new master.
  const keys = new Set((await readAll(addrOf(ready, slaveOrdinal), TOPIC, 2)).map((m) => m.keys));
  expect(Array.from({ length: 20 }, (_, i) => `before-${i}`).filter((k) => !keys.has(k))).toEqual(
    [],
  );
  await eventually(
    'old master labelled slave',
    async () => (await podLabel(first.masterPod)) === 'slave',
  );
  // Roles in status are what the brokers answer, refreshed by the operator: eventually these.
  const roles = [0, 1].map((o) => [
    `ha-broker-0-${o}`,
    o === slaveOrdinal ? 'MASTER' : 'SLAVE',
    o === slaveOrdinal ? 0 : o + 1,
  ]);
  await eventually('status shows the new roles', async () => {
    const replicas = (await getCluster()).status?.groups?.[0].replicas ?? [];
    return (
      JSON.stringify(replicas.map((r) => [r.pod, r.role, r.brokerId])) === JSON.stringify(roles)
    );
  });
});

test('NameServers scale up and down without restarting a broker: running brokers are told the new list', async () => {
  const cluster = await getCluster();
  const brokerPods = [0, 1].map((o) => `ha-broker-0-${o}`);
  const pids = brokerPods.map((p) => kubelet.process(p)?.child.pid);
  const brokerAddrs = [0, 1].map((o) => addrOf(cluster, o));
  const configs = new BrokerConfigClient(silent);
  try {
    await custom.patchNamespacedCustomObject(
      { ...coords, name: 'ha', body: { spec: { nameServer: { replicas: 2 } } } },
      mergePatch,
    );
    // The new NameServer is registered with by both brokers, which keep running.
    const newNamesrv = await eventually(
      'second NameServer running',
      async () => {
        const c = await getCluster();
        return c.status?.nameServer?.readyReplicas === 2
          ? kubelet.network.resolve(c.status.nameServer.addresses.split(';')[1])
          : undefined;
      },
      30_000,
    );
    const admin = new AdminClient({ namesrvAddr: newNamesrv, logger: silent });
    try {
      await eventually(
        'both brokers registered with the new NameServer',
        async () => {
          const info = await admin.clusterInfo();
          const addrs = Object.values(info.brokerAddrTable['broker-0']?.brokerAddrs ?? {});
          return brokerAddrs.every((a) => addrs.includes(a));
        },
        20_000,
      );
    } finally {
      admin.close();
    }
    expect(brokerPods.map((p) => kubelet.process(p)?.child.pid)).toEqual(pids);

    await custom.patchNamespacedCustomObject(
      { ...coords, name: 'ha', body: { spec: { nameServer: { replicas: 1 } } } },
      mergePatch,
    );
    const only = kubelet.network.resolve(cluster.status!.nameServer!.addresses.split(';')[0]);
    await eventually(
      'brokers told the shorter list',
      async () => {
        for (const a of brokerAddrs) {
          if ((await configs.get(a)).get('namesrvAddr') !== only) return false;
        }
        return true;
      },
      20_000,
    );
    expect(brokerPods.map((p) => kubelet.process(p)?.child.pid)).toEqual(pids);
    const events = (await core.listNamespacedEvent({ namespace: NS })).items;
    expect(
      events.some((e) => e.reason === 'BrokerConfigUpdated' && e.message?.includes('namesrvAddr=')),
    ).toBe(true);
  } finally {
    configs.close();
  }
});

test('a new broker group gets the topic configs of the existing group and serves the topic', async () => {
  await custom.patchNamespacedCustomObject(
    { ...coords, name: 'ha', body: { spec: { broker: { groups: 2 } } } },
    mergePatch,
  );
  const cluster = await eventually(
    'second group ready with an elected master',
    async () => {
      const c = await getCluster();
      const group = c.status?.groups?.[1];
      return c.status?.readyGroups === '2/2' && group && group.epoch > 0 ? c : undefined;
    },
    60_000,
  );
  const admin = new AdminClient({
    namesrvAddr: kubelet.network.resolveList(cluster.status!.nameServer!.addresses),
    logger: silent,
  });
  try {
    const route = await eventually(
      'the topic routed to both groups',
      async () => {
        const r = await admin.topicRoute(TOPIC).catch(() => undefined);
        return r?.queueDatas.some((q) => q.brokerName === 'broker-1') ? r : undefined;
      },
      30_000,
    );
    expect(route.queueDatas.find((q) => q.brokerName === 'broker-1')).toMatchObject({
      readQueueNums: 2,
      writeQueueNums: 2,
    });
  } finally {
    admin.close();
  }
  const copied = await eventually('TopicsCopied event', async () =>
    (await core.listNamespacedEvent({ namespace: NS })).items.find(
      (e) => e.reason === 'TopicsCopied',
    ),
  );
  expect(copied.message).toBe(`group broker-1 got the topic configs of the other groups: ${TOPIC}`);
});

test('removing a group: writes stop, unconsumed messages block it (Degraded), the force annotation removes it', async () => {
  // Messages that land on broker-1 and nobody consumes.
  const onBroker1 = await eventually(
    'a message stored on broker-1',
    async () => {
      const r = await producer!.send({ topic: TOPIC, body: Buffer.from('for broker-1') });
      // SEND_OK once broker-1's slave follows its master (SYNC).
      return r.messageQueue.brokerName === 'broker-1' && r.sendStatus === 'SEND_OK' ? r : undefined;
    },
    20_000,
  );
  expect(onBroker1.sendStatus).toBe('SEND_OK');
  await custom.patchNamespacedCustomObject(
    { ...coords, name: 'ha', body: { spec: { broker: { groups: 1, scaleInDrainSeconds: 2 } } } },
    mergePatch,
  );
  const blocked = await eventually(
    'scale-in blocked',
    async () => {
      const c = await getCluster();
      const degraded = c.status?.conditions?.find((x) => x.type === 'Degraded');
      return c.status?.operation?.phase === 'Blocked' && degraded?.reason === 'ScaleInBlocked'
        ? c
        : undefined;
    },
    30_000,
  );
  expect(blocked.status?.operation).toMatchObject({ type: 'ScaleIn', group: 'broker-1' });
  expect(blocked.status?.operation?.message).toMatch(
    /^group broker-1 still has \d+ unconsumed messages after 2 s; consume them or set the annotation rocketmq-ts.dev\/force-scale-in=true to drop them$/,
  );
  // The group is read-only: the NameServer route says so, and sends all go to broker-0.
  const admin = new AdminClient({
    namesrvAddr: kubelet.network.resolveList(blocked.status!.nameServer!.addresses),
    logger: silent,
  });
  try {
    const route = await admin.topicRoute(TOPIC);
    expect(route.queueDatas.find((q) => q.brokerName === 'broker-1')?.perm).toBe(4);
  } finally {
    admin.close();
  }
  await eventually(
    'sends avoid the read-only group',
    async () =>
      (await producer!.send({ topic: TOPIC, body: Buffer.from('x') })).messageQueue.brokerName ===
      'broker-0',
  );
  for (let i = 0; i < 10; i++) {
    const r = await producer!.send({ topic: TOPIC, body: Buffer.from(`during-${i}`) });
    expect([r.sendStatus, r.messageQueue.brokerName]).toEqual(['SEND_OK', 'broker-0']);
  }
  expect(
    (await apps.listNamespacedStatefulSet({ namespace: NS })).items.map((s) => s.metadata?.name),
  ).toContain('ha-broker-1');

  await custom.patchNamespacedCustomObject(
    {
      ...coords,
      name: 'ha',
      body: { metadata: { annotations: { 'rocketmq-ts.dev/force-scale-in': 'true' } } },
    },
    mergePatch,
  );
  await eventually(
    'group removed and the operation cleared',
    async () => {
      const sets = (await apps.listNamespacedStatefulSet({ namespace: NS })).items;
      const c = await getCluster();
      return (
        !sets.some((s) => s.metadata?.name === 'ha-broker-1') && c.status?.operation === undefined
      );
    },
    30_000,
  );
  const events = (await core.listNamespacedEvent({ namespace: NS })).items.map((e) => e.reason);
  expect(events).toEqual(
    expect.arrayContaining(['ScaleInStarted', 'ScaleInBlocked', 'ScaleInForced', 'GroupRemoved']),
  );
  await eventually('Degraded cleared', async () => {
    const c = await getCluster();
    return c.status?.conditions?.find((x) => x.type === 'Degraded')?.status === 'False';
  });
});
