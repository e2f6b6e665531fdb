import { createHash } from 'node:crypto';
import type { FailoverState, RocketMQCluster } from '../api/types';
import { BROKER_LISTEN_PORT, brokerName, nameServerAddresses, STORE_PATH } from './names';

/** `key=value` lines in Java properties form, as broker.conf and namesrv.conf are written. */
export function renderProperties(entries: Record<string, string | number>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

/** The recorded master ordinal of a group; ordinal 0 until failover records otherwise. */
export function masterOrdinal(failover: FailoverState, group: string): number {
  return failover.get(group)?.masterOrdinal ?? 0;
}

/**
 * brokerId of the pod at `ordinal`: the master is 0 (RocketMQ's rule); the slave at ordinal 0
 * takes the master's ordinal, so ids stay unique and 0..n-1 after any failover.
 */
export function brokerIdOf(ordinal: number, master: number): number {
  if (ordinal === master) return 0;
  return ordinal === 0 ? master : ordinal;
}

/** The brokerId the pod at `ordinal` takes while a slave under the failover controller. */
export const slaveIdOf = (ordinal: number) => ordinal + 1;

/** The role of a group's master, from the replication mode. */
export function masterRoleOf(cluster: RocketMQCluster): 'SYNC_MASTER' | 'ASYNC_MASTER' {
  return cluster.spec.broker.replicationMode === 'SYNC' ? 'SYNC_MASTER' : 'ASYNC_MASTER';
}

/** The brokerId a pod has now: 0 for the recorded master, else its slave id. */
export function currentBrokerId(cluster: RocketMQCluster, ordinal: number, master: number): number {
  if (!cluster.spec.failover.enabled) return brokerIdOf(ordinal, master);
  return ordinal === master ? 0 : slaveIdOf(ordinal);
}

/** broker.conf keys shared by every broker of a group (what a rolling restart must apply). */
export function commonBrokerConfig(
  cluster: RocketMQCluster,
  groupIndex: number,
): Record<string, string | number> {
  const { spec } = cluster;
  return {
    brokerClusterName: cluster.metadata.name,
    brokerName: brokerName(groupIndex),
    flushDiskType: spec.broker.flushDiskType,
    listenPort: BROKER_LISTEN_PORT,
    storePathRootDir: STORE_PATH,
    httpPort: spec.metrics.port,
    // With failover the operator's controller decides roles (HA_BECOME_*); brokers start fenced.
    ...(spec.failover.enabled ? { enableControllerMode: 'true' } : {}),
  };
}

/** The broker.conf of the pod at `ordinal` of group `groupIndex`. */
export function brokerConf(
  cluster: RocketMQCluster,
  groupIndex: number,
  ordinal: number,
  failover: FailoverState,
): string {
  const master = masterOrdinal(failover, brokerName(groupIndex));
  const controlled = cluster.spec.failover.enabled;
  return renderProperties({
    ...commonBrokerConfig(cluster, groupIndex),
    // A controlled broker keeps its slave id in the file; the controller gives the master id 0.
    brokerId: controlled ? slaveIdOf(ordinal) : brokerIdOf(ordinal, master),
    brokerRole: !controlled && ordinal === master ? masterRoleOf(cluster) : 'SLAVE',
    namesrvAddr: nameServerAddresses(cluster),
    ...cluster.spec.broker.config,
  });
}

export function nameServerConf(cluster: RocketMQCluster): string {
  return renderProperties({
    listenPort: cluster.spec.nameServer.port,
    httpPort: cluster.spec.metrics.port,
  });
}

/**
 * Short digest put on a pod template so that a change of what it hashes rolls the pods. Roles
 * (failover) and namesrvAddr (NameServer scaling) are left out on purpose: neither may restart a
 * broker.
 */
export function configHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
