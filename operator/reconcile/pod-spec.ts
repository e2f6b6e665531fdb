import type { V1Affinity, V1Container, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import type { RocketMQCluster } from '../api/types';

/** Pod-level pieces shared by NameServer and broker pods. */

/** Scheduling from spec.scheduling; `antiAffinityLabels` select the pods to keep apart. */
export function scheduling(
  cluster: RocketMQCluster,
  antiAffinityLabels: Record<string, string>,
): Pick<V1PodSpec, 'affinity' | 'nodeSelector' | 'tolerations' | 'topologySpreadConstraints'> {
  const { groupAntiAffinity, nodeSelector, tolerations, topologySpreadConstraints } =
    cluster.spec.scheduling;
  const term = {
    labelSelector: { matchLabels: antiAffinityLabels },
    topologyKey: 'kubernetes.io/hostname',
  };
  let affinity: V1Affinity | undefined;
  if (groupAntiAffinity === 'Required') {
    affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  } else if (groupAntiAffinity === 'Preferred') {
    affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
      },
    };
  }
  return {
    ...(affinity ? { affinity } : {}),
    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(topologySpreadConstraints.length > 0 ? { topologySpreadConstraints } : {}),
  };
}

/**
 * The privileged init container that writes each sysctl and then reads it back, failing the pod
 * when the node did not take the value (e.g. a read-only /proc/sys). vm.* sysctls are node-wide,
 * so this is opt-in. Names and values were checked by validateSpec to be shell-safe.
 */
export function sysctlInitContainer(cluster: RocketMQCluster): V1Container {
  const lines = Object.entries(cluster.spec.osTuning.sysctls).map(
    ([name, value]) => `apply ${name} '${value}'`,
  );
  const script = [
    'set -e',
    'apply() {',
    '  path=/proc/sys/$(echo "$1" | tr . /)',
    '  echo "$2" > "$path"',
    "  actual=$(tr -s ' \\t' ' ' < \"$path\")",
    '  if [ "$actual" != "$2" ]; then echo "sysctl $1 is $actual, wanted $2" >&2; exit 1; fi',
    '  echo "sysctl $1 = $actual"',
    '}',
    ...lines,
  ].join('\n');
  return {
    name: 'sysctl',
    image: cluster.spec.image,
    imagePullPolicy: cluster.spec.imagePullPolicy,
    command: ['sh', '-c', script],
    securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
  };
}

export function httpProbe(
  path: string,
  port: number,
  periodSeconds: number,
  failureThreshold: number,
): V1Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 2 };
}

/** Pod annotations telling a plain Prometheus where to scrape, when metrics are on. */
export function metricsAnnotations(cluster: RocketMQCluster): Record<string, string> {
  if (!cluster.spec.metrics.enabled) return {};
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(cluster.spec.metrics.port),
    'prometheus.io/path': '/metrics',
  };
}
