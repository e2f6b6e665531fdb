import type { CoreV1Api, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import { HaAdminClient } from '../../client/ha-admin';
import { Producer } from '../../client/producer';
import { createLogger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import type { RocketMQCluster } from '../../operator/api/types';
import { desiredTemplateHash } from '../../operator/reconcile/broker-group';
import { TEMPLATE_HASH_ANNOTATION } from '../../operator/reconcile/names';
import { readAll } from '../ha/support';
import type { LocalKubelet } from '../support/kube-kubelet';
import { mergePatch } from '../support/kube-workloads';
import { eventually } from './kube-wait';
import { startLiveOperator, type LiveOperator } from './live-operator';

/**
 * A rolling change on Kubernetes, end to end: the operator in process against the test API
 * server, real namesrv and broker processes behind the pods (LocalKubelet), our producer sending
 * all along. A broker.config change rolls the group: the slave first, then mastership handed
 * over (switchover), then the old master; never more than one broker down, nothing acknowledged
 * lost, and the operator replaced mid-roll resumes it. Then the pause annotation: a paused cluster does not fail over; unpaused, it does.
 */

jest.setTimeout(120_000);

const NS = 'roll';
const NAME = 'roll';
const coords = {
  group: 'rocketmq-ts.dev',
  version: 'v1alpha1',
  namespace: NS,
  plural: 'rocketmqclusters',
};
const TOPIC = 'RollTopic';
const QUEUES = 2;
const silent = createLogger('rolling-e2e', 'silent');

let live: LiveOperator;
let kubelet: LocalKubelet;
let custom: CustomObjectsApi;
let core: CoreV1Api;
const ha = new HaAdminClient(silent, 500);
const remoting = new RemotingClient({ logger: silent });
let producer: Producer | undefined;

beforeAll(async () => {
  live = await startLiveOperator(NS, silent);
  ({ kubelet, custom, core } = live);
});

afterAll(async () => {
  await producer?.shutdown();
  ha.close();
  remoting.close();
  await live?.stop();
});

const getCluster = () => live.getCluster(NAME);
const addrOf = (cluster: RocketMQCluster, ordinal: number) => live.brokerAddr(cluster, ordinal);
const brokerPods = async () =>
  (
    await core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/component=broker',
    })
  ).items;
const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isTrue = (c: RocketMQCluster, type: string) =>
  c.status?.conditions?.some((x) => x.type === type && x.status === 'True') ?? false;
const reasons = async () =>
  (await core.listNamespacedEvent({ namespace: NS })).items
    .filter((e) => e.involvedObject.name === NAME)
    .map((e) => ({ reason: e.reason ?? '', message: e.message ?? '' }));

/** Sends one message after the other until stopped; remembers what was acknowledged and when. */
function steadySender(p: Producer) {
  const acked: string[] = [];
  let failures = 0;
  let lastAck = Date.now();
  let longestGapMs = 0;
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const key = `m-${i}`;
      try {
        const r = await p.send({ topic: TOPIC, body: Buffer.from(key), keys: key });
        if (r.sendStatus === 'SEND_OK') {
          acked.push(key);
          const now = Date.now();
          longestGapMs = Math.max(longestGapMs, now - lastAck);
          lastAck = now;
        } else failures++;
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  return {
    acked,
    stats: () => ({ failures, longestGapMs }),
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Samples broker pod readiness until stopped: the most brokers of the group down at once. */
function downSampler(replicas: number) {
  let maxDown = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const ready = (await brokerPods()).filter(
        (p) => isReady(p) && p.metadata?.deletionTimestamp == null,
      ).length;
      maxDown = Math.max(maxDown, replicas - ready);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return maxDown;
    },
  };
}

test('a broker.config change rolls the group: slave first, mastership handed over, then the old master; one broker down at most, nothing acknowledged lost, resumed by a new operator', async () => {
  await live.createPairCluster(NAME, 'ASYNC');
  const ready = await eventually(
    'cluster ready with an elected master and replication lag in status',
    async () => {
      const c = await getCluster();
      const group = c.status?.groups?.[0];
      // Roles as the brokers answer them: one MASTER (the recorded one) and one SLAVE.
      const settled = group?.replicas.every(
        (r) =>
          r.ready &&
          r.replicationLagBytes !== undefined &&
          r.role === (r.pod === group.masterPod ? 'MASTER' : 'SLAVE'),
      );
      return isTrue(c, 'Ready') && group && group.epoch > 0 && settled ? c : undefined;
    },
    60_000,
  );
  const first = ready.status!.groups![0];
  const masterOrdinal = Number(first.masterPod.slice(-1));
  const slaveOrdinal = 1 - masterOrdinal;
  expect(first.replicas.map((r) => r.pod)).toEqual(['roll-broker-0-0', 'roll-broker-0-1']);
  expect(first.replicas.find((r) => r.role === 'MASTER')?.replicationLagBytes).toBe(0);
  await eventually('slave following', async () => {
    const s = await ha.status(addrOf(ready, slaveOrdinal));
    return s.role === 'SLAVE' && s.epoch === first.epoch;
  });
  producer = await live.startProducer(ready, TOPIC, QUEUES, 'rolling');
  const before = new Map((await brokerPods()).map((p) => [p.metadata!.name!, p.metadata!.uid]));
  const pids = [0, 1].map((o) => kubelet.process(`roll-broker-0-${o}`)?.child.pid);

  const sender = steadySender(producer);
  await eventually('sends acknowledged', () => sender.acked.length >= 20, 20_000);
  const sampler = downSampler(2);
  const rollStarted = Date.now();
  await custom.patchNamespacedCustomObject(
    {
      ...coords,
      name: NAME,
      body: { spec: { broker: { config: { fileReservedTime: '48' } } } },
    },
    mergePatch,
  );
  await eventually(
    'rolling update in status',
    async () => (await getCluster()).status?.operation?.type === 'RollingUpdate',
  );
  const wanted = desiredTemplateHash(await getCluster(), 0);
  // The operator is replaced mid-roll: the new one resumes from status and the pods.
  await eventually('the first slave restarted', async () =>
    (await reasons()).some((e) => e.reason === 'RestartingSlave'),
  );
  await live.restartOperator();
  const after = await eventually(
    'rolled: the operation cleared, every pod on the new template, Ready',
    async () => {
      const c = await getCluster();
      const pods = await brokerPods();
      const allNew =
        pods.length === 2 &&
        pods.every((p) => p.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION] === wanted);
      return c.status?.operation === undefined && allNew && isTrue(c, 'Ready') ? c : undefined;
    },
    90_000,
  );
  const rollMs = Date.now() - rollStarted;
  const maxDown = await sampler.stop();
  // Keep sending a little through the new master, then stop.
  const ackedAtRollEnd = sender.acked.length;
  await eventually(
    'sends after the roll',
    () => sender.acked.length >= ackedAtRollEnd + 20,
    20_000,
  );
  await sender.stop();
  const { failures, longestGapMs } = sender.stats();
  process.stdout.write(
    `roll ${rollMs} ms; longest write pause ${longestGapMs} ms; ${sender.acked.length} acknowledged, ${failures} failed sends; at most ${maxDown} broker(s) down\n`,
  );

  // Mastership moved by a switchover (no unplanned failover), to the other pod, in a new epoch.
  const group = after.status!.groups![0];
  expect(group.masterPod).toBe(`roll-broker-0-${slaveOrdinal}`);
  expect(group.epoch).toBeGreaterThan(first.epoch);
  expect(maxDown).toBeLessThanOrEqual(1);
  // Every pod was recreated (new uid, new process) with the new template.
  const now = await brokerPods();
  for (const p of now) expect(p.metadata?.uid).not.toBe(before.get(p.metadata!.name!));
  expect([0, 1].map((o) => kubelet.process(`roll-broker-0-${o}`)?.child.pid)).not.toContain(
    pids[0],
  );
  expect([0, 1].map((o) => kubelet.process(`roll-broker-0-${o}`)?.child.pid)).not.toContain(
    pids[1],
  );
  const events = await reasons();
  const order = events
    .map((e) => e.reason)
    .filter((r) =>
      ['RollingUpdateStarted', 'RestartingSlave', 'SwitchedOver', 'RollingUpdateFinished'].includes(
        r,
      ),
    );
  expect(order).toEqual([
    'RollingUpdateStarted',
    'RestartingSlave',
    'SwitchedOver',
    'RestartingSlave',
    'RollingUpdateFinished',
  ]);
  expect(events.filter((e) => e.reason === 'RestartingSlave').map((e) => e.message)).toEqual([
    `group broker-0: roll-broker-0-${slaveOrdinal}`,
    `group broker-0: roll-broker-0-${masterOrdinal}`,
  ]);
  expect(events.map((e) => e.reason)).not.toContain('Failover');
  // Status: roles as the brokers answer them, both ready, the slave's lag known.
  const roles = [0, 1].map((o) => [
    `roll-broker-0-${o}`,
    o === slaveOrdinal ? 'MASTER' : 'SLAVE',
    true,
  ]);
  await eventually(
    'status shows the new roles, both replicas ready, lag known',
    async () => {
      const g = (await getCluster()).status?.groups?.[0];
      return (
        g?.replicas.every((r) => r.replicationLagBytes !== undefined) &&
        JSON.stringify(g.replicas.map((r) => [r.pod, r.role, r.ready])) === JSON.stringify(roles)
      );
    },
    20_000,
  );
  // Nothing acknowledged is missing on the new master.
  const stored = new Set(
    (await readAll(addrOf(after, slaveOrdinal), TOPIC, QUEUES)).map((m) => m.keys),
  );
  expect(sender.acked.filter((k) => !stored.has(k))).toEqual([]);
});

test('a paused cluster does not fail over; unpaused, it does', async () => {
  const setPaused = (paused: boolean) =>
    custom.patchNamespacedCustomObject(
      {
        ...coords,
        name: NAME,
        body: { metadata: { annotations: { 'rocketmq-ts.dev/paused': paused ? 'true' : null } } },
      },
      mergePatch,
    );
  const start = (await getCluster()).status!.groups![0];
  await setPaused(true);
  await eventually('Paused condition', async () => isTrue(await getCluster(), 'Paused'));
  await kubelet.powerOff(start.masterPod);
  // Past the detection time (5 s) with the master gone: nothing is decided while paused.
  await new Promise((r) => setTimeout(r, 7_000));
  const paused = (await getCluster()).status!.groups![0];
  expect([paused.masterPod, paused.epoch]).toEqual([start.masterPod, start.epoch]);

  await setPaused(false);
  const failedOver = await eventually(
    'failover once unpaused',
    async () => {
      const g = (await getCluster()).status?.groups?.[0];
      return g && g.masterPod !== start.masterPod && g.epoch > start.epoch ? g : undefined;
    },
    30_000,
  );
  expect(failedOver.replicas.find((r) => r.pod === failedOver.masterPod)?.ready).toBe(true);
  await kubelet.powerOn(start.masterPod);
});
