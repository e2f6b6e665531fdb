import type { SchemaProps } from '../../operator/api/schema-types';
import type { PrinterColumn } from './kube-table';

/** One served resource type of the test API server. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  statusSubresource: boolean;
  shortNames?: string[];
  /** The CRD's schema, for defaulting and validation of custom resources. */
  schema?: SchemaProps;
  /** The CRD's additionalPrinterColumns, for `kubectl get` tables. */
  printerColumns?: PrinterColumn[];
}

export const groupVersionOf = (t: ResourceType) =>
  t.group ? `${t.group}/${t.version}` : t.version;
export const typeKey = (group: string, version: string, plural: string) =>
  `${group}/${version}/${plural}`;

const core = (
  kind: string,
  plural: string,
  namespaced = true,
  statusSubresource = false,
): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  statusSubresource,
});
const grouped = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  statusSubresource = false,
): ResourceType => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced: true,
  statusSubresource,
});

/** The built-in types the operator and its tests use. */
const short = (t: ResourceType, ...shortNames: string[]): ResourceType => ({ ...t, shortNames });

export const BUILTIN_TYPES: ResourceType[] = [
  short(core('Namespace', 'namespaces', false, true), 'ns'),
  short(core('ConfigMap', 'configmaps'), 'cm'),
  core('Secret', 'secrets'),
  short(core('Service', 'services', true, true), 'svc'),
  short(core('Pod', 'pods', true, true), 'po'),
  short(core('PersistentVolumeClaim', 'persistentvolumeclaims', true, true), 'pvc'),
  short(core('Event', 'events'), 'ev'),
  short(grouped('apps', 'v1', 'StatefulSet', 'statefulsets', true), 'sts'),
  short(grouped('apps', 'v1', 'Deployment', 'deployments', true), 'deploy'),
  short(grouped('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true), 'pdb'),
  grouped('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  grouped('events.k8s.io', 'v1', 'Event', 'events'),
  short(
    {
      ...grouped(
        'apiextensions.k8s.io',
        'v1',
        'CustomResourceDefinition',
        'customresourcedefinitions',
        true,
      ),
      namespaced: false,
    },
    'crd',
    'crds',
  ),
];

/** The discovery documents client-node reads to map kinds to URLs. */
export function apiVersions() {
  return {
    kind: 'APIVersions',
    apiVersion: 'v1',
    versions: ['v1'],
    serverAddressByClientCIDRs: [],
  };
}

export function apiGroupList(types: Iterable<ResourceType>) {
  const groups = new Map<string, Set<string>>();
  for (const t of types) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? new Set<string>();
    versions.add(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const list = [...versions].map((version) => ({
        groupVersion: `${name}/${version}`,
        version,
      }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}

export function apiResourceList(groupVersion: string, types: ResourceType[]) {
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.flatMap((t) => [
      {
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs,
        shortNames: t.shortNames,
      },
      ...(t.statusSubresource
        ? [
            {
              name: `${t.plural}/status`,
              singularName: '',
              namespaced: t.namespaced,
              kind: t.kind,
              verbs: ['get', 'patch', 'update'],
            },
          ]
        : []),
    ]),
  };
}
