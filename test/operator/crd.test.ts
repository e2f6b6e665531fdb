import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CRD_FILE, rocketMQClusterCrd, rocketMQClusterCrdYaml } from '../../operator/api/crd';
import { RECOMMENDED_SYSCTLS, specSchema } from '../../operator/api/schema';
import type { SchemaProps } from '../../operator/api/schema-types';
import { validateSpec } from '../../operator/api/validate';
import type { Json } from '../support/kube-patch';
import { schemaErrors } from '../../operator/api/schema-check';
import { clusterWith } from './fixtures';

const root = join(__dirname, '..', '..');

test('the committed CRD YAML is what the TypeScript schema generates (run `npm run crds`)', () => {
  expect(readFileSync(join(root, CRD_FILE), 'utf8')).toBe(rocketMQClusterCrdYaml());
});

test('the CRD has a status subresource, printer columns and a structural schema', () => {
  const version = rocketMQClusterCrd().spec.versions[0];
  expect(version.subresources).toEqual({ status: {} });
  expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual([
    'Ready',
    'NameServers',
    'Groups',
    'Replicas',
    'Mode',
    'Reason',
    'Age',
  ]);
  // Structural: every node says its type, or explicitly preserves unknown fields.
  const untyped: string[] = [];
  const walk = (s: SchemaProps, path: string) => {
    if (!s.type && !s['x-kubernetes-preserve-unknown-fields']) untyped.push(path);
    for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
    if (s.items) walk(s.items, `${path}[]`);
    if (s.additionalProperties) walk(s.additionalProperties, `${path}{}`);
  };
  walk(version.schema.openAPIV3Schema, '');
  expect(untyped).toEqual([]);
});

test('schema defaults give a complete, valid spec', () => {
  const cluster = clusterWith();
  expect(schemaErrors(specSchema, cluster.spec as unknown as Json)).toEqual([]);
  expect(validateSpec(cluster)).toEqual([]);
  expect(cluster.spec).toMatchObject({
    image: 'rocketmq-ts:latest',
    imagePullPolicy: 'IfNotPresent',
    nameServer: { replicas: 2, port: 9876, resources: {} },
    broker: {
      groups: 1,
      replicasPerGroup: 2,
      replicationMode: 'ASYNC',
      flushDiskType: 'ASYNC_FLUSH',
      storage: { size: '10Gi', deleteClaimsOnScaleIn: false, deleteClaimsOnClusterDeletion: false },
      config: {},
    },
    failover: { enabled: true, detectionSeconds: 30 },
    osTuning: { enabled: false, sysctls: RECOMMENDED_SYSCTLS, nofile: 655350 },
    scheduling: {
      groupAntiAffinity: 'Preferred',
      topologySpreadConstraints: [],
      nodeSelector: {},
      tolerations: [],
    },
    metrics: { enabled: true, port: 9880, serviceMonitor: { enabled: false, interval: '30s' } },
  });
  expect(RECOMMENDED_SYSCTLS['vm.max_map_count']).toBe('655360');
});

test('the schema rejects nonsense: bounds, enums, patterns, types', () => {
  const errors = schemaErrors(specSchema, {
    nameServer: { replicas: 0 },
    broker: { replicationMode: 'QUORUM', groups: 1.5, storage: { size: 'lots' } },
    imagePullPolicy: 'Sometimes',
    failover: { enabled: 'yes' },
  });
  expect(errors).toEqual(
    expect.arrayContaining([
      '.nameServer.replicas: should be >= 1',
      expect.stringContaining('.broker.replicationMode: Unsupported value: "QUORUM"'),
      '.broker.groups: must be of type integer',
      expect.stringContaining('.broker.storage.size: should match'),
      expect.stringContaining('.imagePullPolicy: Unsupported value'),
      '.failover.enabled: must be of type boolean',
    ]),
  );
});

test('the example resource is valid against the schema and the operator rules', () => {
  const example = parse(readFileSync(join(root, 'examples', 'rocketmq-cluster.yaml'), 'utf8')) as {
    metadata: { name: string };
    spec: Json;
  };
  expect(schemaErrors(specSchema, example.spec)).toEqual([]);
  const cluster = clusterWith(example.spec as object, example.metadata.name);
  expect(validateSpec(cluster)).toEqual([]);
  expect(cluster.spec.broker.replicationMode).toBe('SYNC');
});
