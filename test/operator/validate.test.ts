import { validateSpec } from '../../operator/api/validate';
import { clusterWith } from './fixtures';

test('SYNC replication needs a slave', () => {
  expect(
    validateSpec(clusterWith({ broker: { replicationMode: 'SYNC', replicasPerGroup: 1 } })),
  ).toEqual([
    expect.stringContaining('replicationMode SYNC needs spec.broker.replicasPerGroup >= 2'),
  ]);
  expect(
    validateSpec(clusterWith({ broker: { replicationMode: 'SYNC', replicasPerGroup: 2 } })),
  ).toEqual([]);
  expect(
    validateSpec(clusterWith({ broker: { replicationMode: 'ASYNC', replicasPerGroup: 1 } })),
  ).toEqual([]);
});

test('broker.conf keys the operator owns cannot be overridden', () => {
  const problems = validateSpec(
    clusterWith({
      broker: { config: { brokerRole: 'SLAVE', namesrvAddr: 'x:9876', fileReservedTime: '48' } },
    }),
  );
  expect(problems).toEqual([
    'spec.broker.config.brokerRole is set by the operator; remove it',
    'spec.broker.config.namesrvAddr is set by the operator; remove it',
  ]);
});

test('broker.conf overrides cannot inject lines', () => {
  expect(
    validateSpec(clusterWith({ broker: { config: { fileReservedTime: '48\nbrokerRole=SLAVE' } } })),
  ).toEqual([expect.stringContaining('spec.broker.config.fileReservedTime: keys are plain words')]);
});

test('ports may not collide', () => {
  expect(validateSpec(clusterWith({ metrics: { port: 9876 } }))).toEqual([
    'spec.metrics.port must differ from spec.nameServer.port',
  ]);
  expect(validateSpec(clusterWith({ metrics: { port: 10911 } }))).toEqual([
    expect.stringContaining('broker ports'),
  ]);
});

test('a ServiceMonitor needs metrics', () => {
  expect(
    validateSpec(clusterWith({ metrics: { enabled: false, serviceMonitor: { enabled: true } } })),
  ).toEqual(['spec.metrics.serviceMonitor.enabled needs spec.metrics.enabled']);
});

test('sysctls must be shell-safe names and values', () => {
  const problems = validateSpec(
    clusterWith({
      osTuning: { enabled: true, sysctls: { 'vm.swappiness': '1; rm -rf /', 'Bad Name': '1' } },
    }),
  );
  expect(problems).toEqual([
    expect.stringContaining('spec.osTuning.sysctls.vm.swappiness: value'),
    'spec.osTuning.sysctls: "Bad Name" is not a sysctl name',
  ]);
});

test('names long enough to break derived pod names are refused', () => {
  expect(validateSpec(clusterWith({}, 'x'.repeat(41)))).toEqual([
    expect.stringContaining('at most 40 characters'),
  ]);
});

test('a spec that bypassed schema validation is refused field by field, not half-applied', () => {
  const cluster = clusterWith();
  const broken = {
    ...cluster,
    spec: {
      ...cluster.spec,
      osTuning: { ...cluster.spec.osTuning, sysctls: null },
      broker: { ...cluster.spec.broker, groups: 'two' },
    },
  };
  expect(validateSpec(broken as unknown as typeof cluster)).toEqual([
    'spec.broker.groups: must be of type integer',
    'spec.osTuning.sysctls: must be of type object, not null',
  ]);
});
