import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CustomResourceValidator, type K8sObject, validateObjects } from './support/k8s-validate';
import {
  chartCrds,
  find,
  helmTemplate,
  NAMESPACE,
  parseObjects,
  RELEASE,
  render,
} from './support/render';
import { CHART_DIR, helm, REPO_ROOT } from './support/tools';

const FULLNAME = `${RELEASE}-rocketmq-ts-operator`;

/** Every optional part of the chart switched on, with non-default settings. */
const ALL_ON = {
  image: { repository: 'registry.example/rocketmq-ts', tag: '1.2.3', pullPolicy: 'Always' },
  replicaCount: 2,
  watchNamespace: 'messaging',
  httpPort: 9090,
  metrics: {
    service: { enabled: true, port: 9090 },
    serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus' } },
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus' } },
  },
  grafana: {
    dashboards: {
      enabled: true,
      namespace: 'monitoring',
      annotations: { grafana_folder: 'RocketMQ' },
    },
  },
  exampleCluster: {
    enabled: true,
    name: 'demo',
    spec: { broker: { groups: 3, replicasPerGroup: 3, replicationMode: 'SYNC' } },
  },
  imagePullSecrets: [{ name: 'pull-secret' }],
  podLabels: { team: 'messaging' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
};

const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function allows(role: K8sObject, apiGroup: string, resource: string, verb: string): boolean {
  return (role.rules as PolicyRule[]).some(
    (r) =>
      r.apiGroups.includes(apiGroup) && r.resources.includes(resource) && r.verbs.includes(verb),
  );
}

function container(objects: K8sObject[]) {
  const deployment = find(objects, 'Deployment') as K8sObject & {
    spec: {
      replicas: number;
      template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    };
  };
  return {
    deployment,
    pod: deployment.spec.template.spec,
    main: deployment.spec.template.spec.containers[0],
  };
}

describe('the Helm chart', () => {
  let crdValidator: CustomResourceValidator;
  beforeAll(() => {
    crdValidator = new CustomResourceValidator(chartCrds());
  });

  it('passes helm lint --strict with default and with non-default values', () => {
    for (const set of [
      [],
      [
        '--set',
        'metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,grafana.dashboards.enabled=true,exampleCluster.enabled=true,watchNamespace=apps',
      ],
    ]) {
      const result = helm(['lint', '--strict', CHART_DIR, ...set]);
      expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    }
  });

  it('renders the operator, its RBAC and metrics Service by default, every object schema-valid', () => {
    const objects = render();
    expect(kinds(objects)).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'Deployment',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    validateObjects(objects, crdValidator);
    for (const o of objects.filter((o) => !o.kind.startsWith('Cluster'))) {
      expect(o.metadata.namespace).toBe(NAMESPACE);
    }
  });

  it('renders every toggle switched on, every object schema-valid (the example against the CRD)', () => {
    const objects = render(ALL_ON, ['--include-crds']);
    expect(kinds(objects)).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'ConfigMap',
      'ConfigMap',
      'ConfigMap',
      'CustomResourceDefinition',
      'Deployment',
      'PrometheusRule',
      'RocketMQCluster',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    validateObjects(objects, crdValidator);
    const cluster = find(objects, 'RocketMQCluster') as K8sObject & {
      spec: Record<string, unknown>;
    };
    expect(cluster.metadata.namespace).toBe('messaging');
    expect(cluster.spec.image).toBe('registry.example/rocketmq-ts:1.2.3');
    expect(cluster.metadata).toMatchObject({ annotations: { 'helm.sh/resource-policy': 'keep' } });
  });

  it('runs the operator with restricted security, probes and the image from values', () => {
    const { deployment, pod, main } = container(render(ALL_ON));
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(main.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(main.image).toBe('registry.example/rocketmq-ts:1.2.3');
    expect(main.imagePullPolicy).toBe('Always');
    expect(main.args).toEqual([
      'operator',
      '--httpPort=9090',
      `--leaseName=${FULLNAME}-leader`,
      '--leaseNamespace=$(POD_NAMESPACE)',
      '--watchNamespace=messaging',
    ]);
    expect(main.ports).toEqual([{ name: 'http-metrics', containerPort: 9090, protocol: 'TCP' }]);
    expect(main.livenessProbe).toMatchObject({
      httpGet: { path: '/healthz', port: 'http-metrics' },
    });
    expect(main.readinessProbe).toMatchObject({
      httpGet: { path: '/readyz', port: 'http-metrics' },
    });
    expect(main.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
    expect(pod.imagePullSecrets).toEqual([{ name: 'pull-secret' }]);
    expect(pod.tolerations).toEqual(ALL_ON.tolerations);
  });

  it('defaults the image tag to the chart appVersion', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
      appVersion: string;
    };
    expect(container(render()).main.image).toBe(`rocketmq-ts:${chart.appVersion}`);
    expect(container(render()).main.args).not.toContainEqual(
      expect.stringMatching(/^--watchNamespace/),
    );
  });

  it('splits RBAC: managed resources cluster-wide, the Lease in the release namespace only', () => {
    const objects = render();
    const manager = find(objects, 'ClusterRole', `${FULLNAME}-manager`);
    const required: [string, string, string[]][] = [
      ['rocketmq-ts.dev', 'rocketmqclusters', ['get', 'list', 'watch', 'update', 'patch']],
      ['rocketmq-ts.dev', 'rocketmqclusters/status', ['get', 'update', 'patch']],
      ['rocketmq-ts.dev', 'rocketmqclusters/finalizers', ['update']],
      ['apps', 'statefulsets', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      ['', 'services', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      ['', 'configmaps', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      ['policy', 'poddisruptionbudgets', ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      ['', 'pods', ['get', 'list', 'watch', 'patch', 'delete']],
      ['', 'persistentvolumeclaims', ['get', 'list', 'delete']],
      ['', 'events', ['create', 'patch']],
    ];
    for (const [group, resource, verbs] of required) {
      for (const verb of verbs)
        expect([group, resource, verb, allows(manager, group, resource, verb)]).toEqual([
          group,
          resource,
          verb,
          true,
        ]);
    }
    // Least privilege: pods are never created (only deleted by the roll), claims never created,
    // leases not here.
    expect(allows(manager, '', 'pods', 'create')).toBe(false);
    expect(allows(manager, '', 'persistentvolumeclaims', 'create')).toBe(false);
    expect(allows(manager, 'coordination.k8s.io', 'leases', 'get')).toBe(false);

    const leader = find(objects, 'Role', `${FULLNAME}-leader-election`);
    expect(leader.metadata.namespace).toBe(NAMESPACE);
    for (const verb of ['get', 'create', 'update']) {
      expect(allows(leader, 'coordination.k8s.io', 'leases', verb)).toBe(true);
    }
    const reader = find(objects, 'ClusterRole', `${FULLNAME}-cluster-reader`);
    expect(allows(reader, 'apiextensions.k8s.io', 'customresourcedefinitions', 'get')).toBe(true);

    const subject = { kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE };
    for (const [kind, name, roleKind] of [
      ['ClusterRoleBinding', `${FULLNAME}-manager`, 'ClusterRole'],
      ['ClusterRoleBinding', `${FULLNAME}-cluster-reader`, 'ClusterRole'],
      ['RoleBinding', `${FULLNAME}-leader-election`, 'Role'],
    ]) {
      const binding = find(objects, kind, name);
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: roleKind,
        name,
      });
      expect(binding.subjects).toEqual([subject]);
    }
  });

  it('with watchNamespace, grants the managed resources in that namespace only', () => {
    const objects = render({ watchNamespace: 'messaging' });
    expect(
      objects.filter((o) => o.kind === 'ClusterRoleBinding').map((o) => o.metadata.name),
    ).toEqual([`${FULLNAME}-cluster-reader`]);
    const binding = find(objects, 'RoleBinding', `${FULLNAME}-manager`);
    expect(binding.metadata.namespace).toBe('messaging');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: `${FULLNAME}-manager` });
  });

  it('renders no RBAC or ServiceAccount when told not to, and uses the named account', () => {
    const objects = render({
      rbac: { create: false },
      serviceAccount: { create: false, name: 'ops' },
    });
    expect(kinds(objects)).toEqual(['Deployment', 'Service']);
    expect(container(objects).pod.serviceAccountName).toBe('ops');
  });

  it('embeds the shipped rules file unchanged in the PrometheusRule', () => {
    const rule = find(render(ALL_ON), 'PrometheusRule') as K8sObject & { spec: unknown };
    const file = parse(
      readFileSync(join(CHART_DIR, 'alerts/rocketmq-ts.rules.yaml'), 'utf8'),
    ) as unknown;
    expect(rule.spec).toEqual(file);
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus' });
  });

  it('ships each dashboard as a ConfigMap labelled grafana_dashboard: "1"', () => {
    const maps = render(ALL_ON).filter((o) => o.kind === 'ConfigMap') as (K8sObject & {
      data: Record<string, string>;
      metadata: { annotations?: Record<string, string> };
    })[];
    const names = maps.flatMap((m) => Object.keys(m.data)).sort();
    expect(names).toEqual([
      'broker.json',
      'cluster-overview.json',
      'operator.json',
      'topics-and-groups.json',
    ]);
    for (const map of maps) {
      expect(map.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
      expect(map.metadata.namespace).toBe('monitoring');
      expect(map.metadata.annotations).toEqual({ grafana_folder: 'RocketMQ' });
      for (const [file, json] of Object.entries(map.data)) {
        expect(JSON.parse(json)).toEqual(
          JSON.parse(readFileSync(join(CHART_DIR, 'dashboards', file), 'utf8')),
        );
      }
    }
  });

  it('points the ServiceMonitor at the metrics Service port', () => {
    const objects = render(ALL_ON);
    const service = find(objects, 'Service') as K8sObject & {
      spec: { selector: unknown; ports: unknown };
    };
    const monitor = find(objects, 'ServiceMonitor') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: unknown };
    };
    expect(service.spec.ports).toEqual([
      { name: 'http-metrics', port: 9090, targetPort: 'http-metrics', protocol: 'TCP' },
    ]);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([
      { port: 'http-metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' },
    ]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an unknown pull policy',
      { image: { repository: 'x', pullPolicy: 'Sometimes' } },
      /pullPolicy/,
    ],
    ['zero replicas', { replicaCount: 0 }, /replicaCount/],
    ['a privileged port', { httpPort: 80 }, /httpPort/],
    ['a port out of range', { metrics: { service: { port: 70000 } } }, /port/],
    ['a namespace that is no DNS label', { watchNamespace: 'Not_A_Namespace' }, /watchNamespace/],
    ['a toggle given as a string', { metrics: { prometheusRule: { enabled: 'true' } } }, /enabled/],
    ['an unknown key', { replicas: 2 }, /replicas/],
    [
      'a malformed scrape interval',
      { metrics: { serviceMonitor: { interval: 'often' } } },
      /interval/,
    ],
    ['an unknown log level', { logLevel: 'verbose' }, /logLevel/],
    ['a malformed quantity', { resources: { limits: { memory: 'lots' } } }, /memory/],
  ])('rejects %s', (_what, values, mentions) => {
    const result = helmTemplate(values);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(result.stderr).toMatch(mentions);
  });

  it('refuses a ServiceMonitor without the Service it scrapes', () => {
    const result = helmTemplate({
      metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('metrics.serviceMonitor.enabled needs metrics.service.enabled');
  });

  it("accepts the repository's examples/ RocketMQClusters under the shipped CRD's schema", () => {
    const dir = join(REPO_ROOT, 'examples');
    const clusters = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => parseObjects(readFileSync(join(dir, f), 'utf8')))
      .filter((o) => o.kind === 'RocketMQCluster');
    expect(clusters.length).toBeGreaterThan(0);
    validateObjects(clusters, crdValidator);
  });

  it('refuses an example cluster the CRD schema rejects', () => {
    const objects = render({
      exampleCluster: { enabled: true, spec: { broker: { replicationMode: 'MAYBE', groupz: 1 } } },
    });
    expect(() => validateObjects(objects, crdValidator)).toThrow(/replicationMode|groupz/);
  });
});
