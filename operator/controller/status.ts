import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { currentBrokerId, masterOrdinal } from '../reconcile/broker-config';
import { groupNames } from '../reconcile/desired';
import {
  groupObjectName,
  GROUP_LABEL,
  nameServerAddresses,
  nameServerName,
  podName,
} from '../reconcile/names';
import type {
  FailoverState,
  GroupStatus,
  RocketMQCluster,
  RocketMQClusterStatus,
} from '../api/types';
import type { ConditionUpdate } from './conditions';
import type { ReplicationView } from './replication';

/** What the controller observed of the cluster's workloads (from its informer caches). */
export interface Observed {
  statefulSets: ReadonlyMap<string, V1StatefulSet>;
  brokerPods: readonly V1Pod[];
  /** What the broker pods answered about replication, when they were asked. */
  replication?: ReplicationView;
}

const isReady = (sts: V1StatefulSet | undefined, replicas: number) =>
  sts !== undefined &&
  (sts.status?.readyReplicas ?? 0) >= replicas &&
  (sts.status?.replicas ?? 0) === replicas;

export const podReady = (pod: V1Pod | undefined) =>
  pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * The status part derived from observation: NameServer addresses, per group master, epoch,
 * replica roles (as the brokers answer them, else as recorded), readiness and replication lag,
 * and the Ready/Progressing conditions.
 */
export function observedStatus(
  cluster: RocketMQCluster,
  failover: FailoverState,
  observed: Observed,
): {
  status: Omit<RocketMQClusterStatus, 'conditions' | 'observedGeneration'>;
  conditions: ConditionUpdate[];
} {
  const { spec } = cluster;
  const nameServerSts = observed.statefulSets.get(nameServerName(cluster));
  const groups: GroupStatus[] = groupNames(cluster).map((group) => {
    const sts = groupObjectName(cluster, group);
    const master = masterOrdinal(failover, group);
    const pods = new Map(
      observed.brokerPods
        .filter((p) => p.metadata?.labels?.[GROUP_LABEL] === group)
        .map((p) => [p.metadata?.name ?? '', p]),
    );
    return {
      name: group,
      masterPod: podName(sts, master),
      epoch: failover.get(group)?.epoch ?? 0,
      replicas: Array.from({ length: spec.broker.replicasPerGroup }, (_, ordinal) => {
        const name = podName(sts, ordinal);
        const answered = observed.replication?.get(name);
        const ready = podReady(pods.get(name));
        return {
          pod: name,
          brokerId: currentBrokerId(cluster, ordinal, master),
          role: answered?.role ?? (ordinal === master ? 'MASTER' : 'SLAVE'),
          ready,
          ...(ready && answered?.lagBytes !== undefined
            ? { replicationLagBytes: answered.lagBytes }
            : {}),
        };
      }),
    };
  });
  const readyGroups = groupNames(cluster).filter((g) =>
    isReady(observed.statefulSets.get(groupObjectName(cluster, g)), spec.broker.replicasPerGroup),
  );
  const nameServersReady = isReady(nameServerSts, spec.nameServer.replicas);
  const ready = nameServersReady && readyGroups.length === spec.broker.groups;
  const waiting = [
    ...(nameServersReady
      ? []
      : [
          `NameServers ${nameServerSts?.status?.readyReplicas ?? 0}/${spec.nameServer.replicas} ready`,
        ]),
    ...groupNames(cluster)
      .filter((g) => !readyGroups.includes(g))
      .map((g) => {
        const sts = observed.statefulSets.get(groupObjectName(cluster, g));
        return `${g} ${sts?.status?.readyReplicas ?? 0}/${spec.broker.replicasPerGroup} ready`;
      }),
  ];
  return {
    status: {
      nameServer: {
        addresses: nameServerAddresses(cluster),
        readyReplicas: nameServerSts?.status?.readyReplicas ?? 0,
      },
      groups,
      readyGroups: `${readyGroups.length}/${spec.broker.groups}`,
    },
    conditions: ready
      ? [
          {
            type: 'Ready',
            status: 'True',
            reason: 'AllReplicasReady',
            message: 'all NameServers and brokers are ready',
          },
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ReconcileComplete',
            message: 'the cluster matches its spec',
          },
        ]
      : [
          { type: 'Ready', status: 'False', reason: 'WaitingForPods', message: waiting.join('; ') },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'RolloutInProgress',
            message: waiting.join('; '),
          },
        ],
  };
}
