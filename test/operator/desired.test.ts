import type {
  V1ConfigMap,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { FailoverState, RocketMQCluster } from '../../operator/api/types';
import { parseProperties } from '../../common/config';
import {
  desiredObjects,
  failoverStateOf,
  type DesiredObject,
} from '../../operator/reconcile/desired';
import { desiredTemplateHash } from '../../operator/reconcile/broker-group';
import { CONFIG_HASH_ANNOTATION, TEMPLATE_HASH_ANNOTATION } from '../../operator/reconcile/names';
import { clusterWith } from './fixtures';

/** Pure reconcile: spec (and recorded failover state) in, objects out. */

const noFailover: FailoverState = new Map();

function render(cluster: RocketMQCluster, failover = noFailover) {
  const objects = desiredObjects(cluster, failover);
  const find = <T>(kind: string, name: string): T => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found)
      throw new Error(
        `no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(' ')}`,
      );
    return found as unknown as T;
  };
  return {
    objects,
    sts: (name: string) => find<V1StatefulSet>('StatefulSet', name),
    svc: (name: string) => find<V1Service>('Service', name),
    cm: (name: string) => find<V1ConfigMap>('ConfigMap', name),
    pdb: (name: string) => find<V1PodDisruptionBudget>('PodDisruptionBudget', name),
    conf: (group: string, ordinal: number) =>
      Object.fromEntries(
        parseProperties(
          find<V1ConfigMap>('ConfigMap', `demo-${group}-config`).data?.[
            `demo-${group}-${ordinal}.conf`
          ] ?? '',
        ),
      ),
  };
}

const podSpec = (sts: V1StatefulSet) => sts.spec?.template.spec;
const container = (sts: V1StatefulSet) => podSpec(sts)?.containers[0];
const hashOf = (sts: V1StatefulSet) =>
  sts.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];

test('default spec: the NameServer set, one broker group of two, each with its Services, config and PDB', () => {
  const { objects } = render(clusterWith());
  expect(objects.map((o: DesiredObject) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
    'ConfigMap/demo-broker-0-config',
    'ConfigMap/demo-nameserver-config',
    'PodDisruptionBudget/demo-broker-0',
    'PodDisruptionBudget/demo-nameserver',
    'Service/demo-broker-0',
    'Service/demo-broker-0-master',
    'Service/demo-nameserver',
    'StatefulSet/demo-broker-0',
    'StatefulSet/demo-nameserver',
  ]);
  for (const o of objects) {
    expect(o.metadata.namespace).toBe('rmq');
    expect(o.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'rocketmq-ts.dev/v1alpha1',
        kind: 'RocketMQCluster',
        name: 'demo',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(o.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'rocketmq',
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/managed-by': 'rocketmq-ts-operator',
    });
  }
});

test('image and pull policy go to every container, the sysctl init container included', () => {
  const r = render(
    clusterWith({
      image: 'registry/rmq:1.2',
      imagePullPolicy: 'Always',
      osTuning: { enabled: true },
    }),
  );
  for (const sts of [r.sts('demo-nameserver'), r.sts('demo-broker-0')]) {
    expect(container(sts)).toMatchObject({ image: 'registry/rmq:1.2', imagePullPolicy: 'Always' });
  }
  expect(podSpec(r.sts('demo-broker-0'))?.initContainers?.[0]).toMatchObject({
    image: 'registry/rmq:1.2',
    imagePullPolicy: 'Always',
  });
});

test('nameServer: replicas, port and resources; the headless Service publishes not-ready pods', () => {
  const resources = { requests: { cpu: '100m' }, limits: { memory: '256Mi' } };
  const r = render(clusterWith({ nameServer: { replicas: 3, port: 9877, resources } }));
  const sts = r.sts('demo-nameserver');
  expect(sts.spec?.replicas).toBe(3);
  expect(sts.spec?.serviceName).toBe('demo-nameserver');
  expect(container(sts)?.args).toEqual(['namesrv', '-c', '/etc/rocketmq/namesrv.conf']);
  expect(container(sts)?.resources).toEqual(resources);
  expect(container(sts)?.ports).toContainEqual({ name: 'namesrv', containerPort: 9877 });
  expect(r.cm('demo-nameserver-config').data?.['namesrv.conf']).toBe(
    'listenPort=9877\nhttpPort=9880\n',
  );
  const svc = r.svc('demo-nameserver');
  expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
  expect(svc.spec?.ports?.[0]).toEqual({ name: 'namesrv', port: 9877, targetPort: 9877 });
  expect(r.conf('broker-0', 0).namesrvAddr).toBe(
    'demo-nameserver-0.demo-nameserver.rmq.svc:9877;demo-nameserver-1.demo-nameserver.rmq.svc:9877;demo-nameserver-2.demo-nameserver.rmq.svc:9877',
  );
});

test('scaling NameServers changes no broker StatefulSet (no broker restarts)', () => {
  const two = render(clusterWith({ nameServer: { replicas: 2 }, broker: { groups: 2 } }));
  const five = render(clusterWith({ nameServer: { replicas: 5 }, broker: { groups: 2 } }));
  for (const name of ['demo-broker-0', 'demo-broker-1'])
    expect(five.sts(name)).toEqual(two.sts(name));
  expect(five.conf('broker-1', 0).namesrvAddr.split(';')).toHaveLength(5);
});

test('broker.groups: one StatefulSet, headless Service, master Service, ConfigMap and PDB per group', () => {
  const r = render(clusterWith({ broker: { groups: 3 } }));
  for (const g of [0, 1, 2]) {
    const sts = r.sts(`demo-broker-${g}`);
    expect(sts.spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'rocketmq',
      'app.kubernetes.io/instance': 'demo',
      'app.kubernetes.io/component': 'broker',
      'rocketmq-ts.dev/group': `broker-${g}`,
    });
    expect(r.svc(`demo-broker-${g}`).spec?.clusterIP).toBe('None');
    expect(r.svc(`demo-broker-${g}-master`).spec?.selector).toEqual({
      ...sts.spec?.selector.matchLabels,
      'rocketmq-ts.dev/role': 'master',
    });
    expect(r.svc(`demo-broker-${g}-master`).spec?.ports?.map((p) => p.port)).toEqual([
      10911, 10909,
    ]);
    expect(r.pdb(`demo-broker-${g}`).spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: sts.spec?.selector.matchLabels },
    });
    expect(r.conf(`broker-${g}`, 0)).toMatchObject({
      brokerClusterName: 'demo',
      brokerName: `broker-${g}`,
    });
  }
  expect(r.pdb('demo-nameserver').spec?.maxUnavailable).toBe(1);
});

test('broker.conf per pod without failover: static ids, roles from replicationMode, flush type, ports, store path', () => {
  const r = render(
    clusterWith({
      broker: { replicasPerGroup: 3, replicationMode: 'SYNC', flushDiskType: 'SYNC_FLUSH' },
      failover: { enabled: false },
    }),
  );
  expect(r.sts('demo-broker-0').spec?.replicas).toBe(3);
  expect(Object.keys(r.cm('demo-broker-0-config').data ?? {})).toEqual([
    'demo-broker-0-0.conf',
    'demo-broker-0-1.conf',
    'demo-broker-0-2.conf',
  ]);
  expect(r.conf('broker-0', 0)).toEqual({
    brokerClusterName: 'demo',
    brokerName: 'broker-0',
    flushDiskType: 'SYNC_FLUSH',
    listenPort: '10911',
    storePathRootDir: '/home/rocketmq/store',
    httpPort: '9880',
    brokerId: '0',
    brokerRole: 'SYNC_MASTER',
    namesrvAddr:
      'demo-nameserver-0.demo-nameserver.rmq.svc:9876;demo-nameserver-1.demo-nameserver.rmq.svc:9876',
  });
  expect(
    [1, 2].map((o) => [r.conf('broker-0', o).brokerId, r.conf('broker-0', o).brokerRole]),
  ).toEqual([
    ['1', 'SLAVE'],
    ['2', 'SLAVE'],
  ]);
  expect(
    render(
      clusterWith({ broker: { replicationMode: 'ASYNC' }, failover: { enabled: false } }),
    ).conf('broker-0', 0).brokerRole,
  ).toBe('ASYNC_MASTER');
});

test('with failover (default) every broker starts fenced under the controller: slave ids ordinal+1, no master in the file', () => {
  const cluster = clusterWith({ broker: { replicasPerGroup: 3 } });
  const before = render(cluster);
  const after = render(cluster, new Map([['broker-0', { masterOrdinal: 2, epoch: 4 }]]));
  for (const r of [before, after]) {
    expect(
      [0, 1, 2].map((o) => [
        r.conf('broker-0', o).enableControllerMode,
        r.conf('broker-0', o).brokerId,
        r.conf('broker-0', o).brokerRole,
      ]),
    ).toEqual([
      ['true', '1', 'SLAVE'],
      ['true', '2', 'SLAVE'],
      ['true', '3', 'SLAVE'],
    ]);
  }
  // A recorded failover changes neither the files nor the pods: the controller moved the master.
  expect(after.objects).toEqual(before.objects);
});

test('the broker container reads its own conf and mounts the store PVC', () => {
  const sts = render(clusterWith()).sts('demo-broker-0');
  expect(container(sts)?.args).toEqual(['broker', '-c', '/etc/rocketmq/$(POD_NAME).conf']);
  expect(container(sts)?.env).toEqual([
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ]);
  expect(container(sts)?.volumeMounts).toEqual([
    { name: 'store', mountPath: '/home/rocketmq/store' },
    { name: 'config', mountPath: '/etc/rocketmq' },
  ]);
  expect(podSpec(sts)?.volumes).toEqual([
    { name: 'config', configMap: { name: 'demo-broker-0-config' } },
  ]);
});

test('without failover, recorded state moves the master: brokerId 0 and the master role follow it, the pod template does not', () => {
  const cluster = clusterWith({
    broker: { replicasPerGroup: 3, replicationMode: 'SYNC' },
    failover: { enabled: false },
  });
  const before = render(cluster);
  const after = render(cluster, new Map([['broker-0', { masterOrdinal: 2, epoch: 4 }]]));
  expect(
    [0, 1, 2].map((o) => [
      after.conf('broker-0', o).brokerId,
      after.conf('broker-0', o).brokerRole,
    ]),
  ).toEqual([
    ['2', 'SLAVE'],
    ['1', 'SLAVE'],
    ['0', 'SYNC_MASTER'],
  ]);
  expect(after.sts('demo-broker-0')).toEqual(before.sts('demo-broker-0'));
  // Status round trip: the master pod recorded in status is the failover state read back.
  const withStatus: RocketMQCluster = {
    ...cluster,
    status: {
      groups: [{ name: 'broker-0', masterPod: 'demo-broker-0-2', epoch: 4, replicas: [] }],
    },
  };
  expect(failoverStateOf(withStatus)).toEqual(
    new Map([['broker-0', { masterOrdinal: 2, epoch: 4 }]]),
  );
});

test('broker pods are rolled by the operator (OnDelete); the template digest changes with the template only', () => {
  const templateHash = (sts: V1StatefulSet) =>
    sts.spec?.template.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION];
  const cluster = clusterWith({ broker: { groups: 2 } });
  const base = render(cluster).sts('demo-broker-0');
  expect(base.spec?.updateStrategy).toEqual({ type: 'OnDelete' });
  expect(templateHash(base)).toMatch(/^[0-9a-f]{16}$/);
  expect(desiredTemplateHash(cluster, 0)).toBe(templateHash(base));
  expect(desiredTemplateHash(cluster, 1)).toBe(templateHash(render(cluster).sts('demo-broker-1')));
  // A failover (recorded master moved) changes only the ConfigMap, never the template.
  const failedOver = render(cluster, new Map([['broker-0', { masterOrdinal: 1, epoch: 3 }]]));
  expect(templateHash(failedOver.sts('demo-broker-0'))).toBe(templateHash(base));
  const changed = [
    clusterWith({ broker: { groups: 2, config: { fileReservedTime: '24' } } }),
    clusterWith({ broker: { groups: 2, resources: { limits: { cpu: '2' } } } }),
    clusterWith({ broker: { groups: 2 }, image: 'rocketmq-ts:2' }),
  ];
  for (const c of changed) expect(desiredTemplateHash(c, 0)).not.toBe(templateHash(base));
});

test('storage: size, class, and the PVC retention on scale-in', () => {
  const keep = render(
    clusterWith({ broker: { storage: { size: '50Gi', storageClassName: 'fast' } } }),
  ).sts('demo-broker-0');
  expect(keep.spec?.volumeClaimTemplates?.[0].spec).toEqual({
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '50Gi' } },
    storageClassName: 'fast',
  });
  expect(keep.spec?.volumeClaimTemplates?.[0].metadata?.labels?.['rocketmq-ts.dev/group']).toBe(
    'broker-0',
  );
  expect(keep.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
    whenScaled: 'Retain',
    whenDeleted: 'Retain',
  });
  const drop = render(clusterWith({ broker: { storage: { deleteClaimsOnScaleIn: true } } })).sts(
    'demo-broker-0',
  );
  expect(drop.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled).toBe('Delete');
  expect(drop.spec?.volumeClaimTemplates?.[0].spec?.storageClassName).toBeUndefined();
});

test('broker.config overrides land in broker.conf and roll the pods (config hash); resources go to the container', () => {
  const resources = { requests: { cpu: '1', memory: '2Gi' } };
  const base = render(clusterWith());
  const tuned = render(
    clusterWith({
      broker: { config: { fileReservedTime: '48', sendMessageThreadPoolNums: '4' }, resources },
    }),
  );
  expect(tuned.conf('broker-0', 1)).toMatchObject({
    fileReservedTime: '48',
    sendMessageThreadPoolNums: '4',
    brokerRole: 'SLAVE',
  });
  expect(hashOf(tuned.sts('demo-broker-0'))).not.toBe(hashOf(base.sts('demo-broker-0')));
  expect(container(tuned.sts('demo-broker-0'))?.resources).toEqual(resources);
  expect(hashOf(render(clusterWith({ image: 'other:2' })).sts('demo-broker-0'))).not.toBe(
    hashOf(base.sts('demo-broker-0')),
  );
  expect(hashOf(render(clusterWith({ image: 'other:2' })).sts('demo-nameserver'))).not.toBe(
    hashOf(base.sts('demo-nameserver')),
  );
});

test('osTuning off (default): no init container, the image entrypoint runs the broker', () => {
  const sts = render(clusterWith()).sts('demo-broker-0');
  expect(podSpec(sts)?.initContainers).toBeUndefined();
  expect(container(sts)?.command).toBeUndefined();
});

test('osTuning on: a privileged init container applies then verifies each sysctl; nofile is raised', () => {
  const sts = render(
    clusterWith({
      osTuning: {
        enabled: true,
        sysctls: { 'vm.max_map_count': '655360', 'vm.swappiness': '10' },
        nofile: 100000,
      },
    }),
  ).sts('demo-broker-0');
  const init = podSpec(sts)?.initContainers?.[0];
  expect(init?.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
  const script = init?.command?.[2] ?? '';
  expect(init?.command?.slice(0, 2)).toEqual(['sh', '-c']);
  expect(script).toContain("apply vm.max_map_count '655360'");
  expect(script).toContain("apply vm.swappiness '10'");
  expect(script).toContain(
    'if [ "$actual" != "$2" ]; then echo "sysctl $1 is $actual, wanted $2" >&2; exit 1; fi',
  );
  expect(container(sts)?.command).toEqual(['sh', '-c']);
  expect(container(sts)?.args?.[0]).toMatch(
    /^ulimit -n 100000 .*exec rocketmq-ts broker -c "\/etc\/rocketmq\/\$POD_NAME.conf"$/,
  );
  expect(
    podSpec(render(clusterWith({ osTuning: { enabled: true } })).sts('demo-nameserver'))
      ?.initContainers,
  ).toBeUndefined();
});

test('the sysctl script really applies and verifies (run against a fake /proc/sys)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'sysctl-'));
  mkdirSync(join(dir, 'vm'));
  writeFileSync(join(dir, 'vm', 'swappiness'), '60\n');
  const sts = render(
    clusterWith({ osTuning: { enabled: true, sysctls: { 'vm.swappiness': '10' } } }),
  ).sts('demo-broker-0');
  const script = (podSpec(sts)?.initContainers?.[0].command?.[2] ?? '').replaceAll(
    '/proc/sys/',
    `${dir}/`,
  );
  expect(execFileSync('sh', ['-c', script]).toString()).toBe('sysctl vm.swappiness = 10\n');
  expect(readFileSync(join(dir, 'vm', 'swappiness'), 'utf8')).toBe('10\n');
  // A value the "kernel" does not keep fails the init container.
  const refusing = script.replace('echo "$2" > "$path"', 'echo 0 > "$path"');
  expect(() => execFileSync('sh', ['-c', refusing], { stdio: 'pipe' })).toThrow(
    /sysctl vm.swappiness is 0, wanted 10/,
  );
  rmSync(dir, { recursive: true, force: true });
});

test('scheduling: group anti-affinity Preferred (default), Required, None; spread, selectors, tolerations pass through', () => {
  const preferred = podSpec(render(clusterWith()).sts('demo-broker-0'))?.affinity?.podAntiAffinity;
  expect(preferred?.preferredDuringSchedulingIgnoredDuringExecution?.[0]).toEqual({
    weight: 100,
    podAffinityTerm: {
      labelSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'rocketmq',
          'app.kubernetes.io/instance': 'demo',
          'app.kubernetes.io/component': 'broker',
          'rocketmq-ts.dev/group': 'broker-0',
        },
      },
      topologyKey: 'kubernetes.io/hostname',
    },
  });
  const required = podSpec(
    render(clusterWith({ scheduling: { groupAntiAffinity: 'Required' } })).sts('demo-broker-0'),
  );
  expect(
    required?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
  ).toHaveLength(1);
  const spread = [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
  ];
  const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'mq', effect: 'NoSchedule' }];
  const none = render(
    clusterWith({
      scheduling: {
        groupAntiAffinity: 'None',
        topologySpreadConstraints: spread,
        nodeSelector: { disk: 'ssd' },
        tolerations,
      },
    }),
  );
  for (const sts of [none.sts('demo-broker-0'), none.sts('demo-nameserver')]) {
    expect(podSpec(sts)?.affinity).toBeUndefined();
    expect(podSpec(sts)).toMatchObject({
      topologySpreadConstraints: spread,
      nodeSelector: { disk: 'ssd' },
      tolerations,
    });
  }
});

test('metrics: port in probes, conf and Services; scrape annotations; a ServiceMonitor only when asked', () => {
  const on = render(clusterWith({ metrics: { port: 9999 } }));
  const broker = on.sts('demo-broker-0');
  expect(container(broker)?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 9999 });
  expect(container(broker)?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 9999 });
  expect(on.conf('broker-0', 0).httpPort).toBe('9999');
  expect(broker.spec?.template.metadata?.annotations).toMatchObject({
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '9999',
  });
  expect(on.svc('demo-broker-0').spec?.ports?.map((p) => p.name)).toEqual([
    'broker',
    'fast',
    'ha',
    'metrics',
  ]);
  expect(on.objects.some((o) => o.kind === 'ServiceMonitor')).toBe(false);

  const off = render(clusterWith({ metrics: { enabled: false } }));
  expect(
    off.sts('demo-broker-0').spec?.template.metadata?.annotations?.['prometheus.io/scrape'],
  ).toBeUndefined();
  expect(off.svc('demo-nameserver').spec?.ports?.map((p) => p.name)).toEqual(['namesrv']);

  const monitored = render(
    clusterWith({ metrics: { serviceMonitor: { enabled: true, interval: '15s' } } }),
  );
  const monitor = monitored.objects.find((o) => o.kind === 'ServiceMonitor') as unknown as {
    spec: { endpoints: unknown[] };
  };
  expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s' }]);
});

test('failover detection time does not change the workload objects; turning failover on or off rolls the brokers', () => {
  expect(render(clusterWith({ failover: { detectionSeconds: 120 } })).objects).toEqual(
    render(clusterWith()).objects,
  );
  expect(
    hashOf(render(clusterWith({ failover: { enabled: false } })).sts('demo-broker-0')),
  ).not.toBe(hashOf(render(clusterWith()).sts('demo-broker-0')));
});

test('desired objects need the cluster uid for owner references', () => {
  const cluster = clusterWith();
  expect(() =>
    desiredObjects({ ...cluster, metadata: { ...cluster.metadata, uid: undefined } }, noFailover),
  ).toThrow(/no uid/);
});
