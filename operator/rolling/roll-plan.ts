import type { BrokerRole } from '../api/types';

/** A replica beyond this many bytes behind its master is not in sync: the roll waits for it. */
export const ROLL_MAX_LAG_BYTES = 256 * 1024;

/** One broker pod of the group being rolled, as observed just now. */
export interface RollReplica {
  pod: string;
  /** The pod exists and is not terminating. */
  present: boolean;
  ready: boolean;
  /** The pod runs the desired template. */
  updated: boolean;
  /** As the broker answers it; undefined when it does not answer. */
  role?: BrokerRole;
  lagBytes?: number;
}

export interface RollGroup {
  /** The master recorded for the group (status.groups[].masterPod). */
  masterPod: string;
  /** In ordinal order. */
  replicas: readonly RollReplica[];
  /** Mastership can be handed over (a failover controller runs for the group). */
  failoverEnabled: boolean;
  maxLagBytes: number;
}

export type RollStep =
  | { action: 'done' }
  | { action: 'wait'; reason: string }
  /** Delete this slave's pod; it comes back with the new template. */
  | { action: 'restartSlave'; pod: string }
  /** Hand mastership from the outdated master to this updated, in-sync slave. */
  | { action: 'switchover'; from: string; to: string }
  /** Delete the master's pod without a handover: the group takes no writes until it is back. */
  | { action: 'restartMaster'; pod: string; why: 'failover disabled' | 'no slave' };

/** Why the group cannot take the next step now (a pod down, a slave behind), if anything. */
function notHealthy(group: RollGroup): string | undefined {
  for (const r of group.replicas) {
    if (!r.present) return `${r.pod} is not running`;
    if (!r.ready) return `${r.pod} is not ready`;
  }
  const master = group.replicas.find((r) => r.pod === group.masterPod);
  if (master === undefined) return `the recorded master ${group.masterPod} is not in the group`;
  if (master.role !== 'MASTER') return `${master.pod} does not answer as master yet`;
  for (const r of group.replicas) {
    if (r === master) continue;
    if (r.role !== 'SLAVE') return `${r.pod} does not follow the master yet`;
    if (r.lagBytes === undefined) return `${r.pod}'s replication lag is unknown`;
    // No byte count in the reason: it is written to status, and a changing one would be rewritten
    // (and reconciled) at every step while the slave catches up.
    if (r.lagBytes > group.maxLagBytes) {
      return `${r.pod} is more than ${group.maxLagBytes} bytes behind the master`;
    }
  }
  return undefined;
}

/**
 * The next step of a group's rolling restart, pure. Never more than one broker of the group down:
 * nothing is restarted until every replica is ready and every slave follows the master within
 * `maxLagBytes`. Outdated slaves go first (highest ordinal first); then the master hands over to
 * the updated slave closest to it and, now a slave, is restarted like the others. Without failover
 * (or without a slave) the master is restarted in place, last.
 */
export function nextRollStep(group: RollGroup): RollStep {
  const problem = notHealthy(group);
  const outdated = group.replicas.filter((r) => !r.updated);
  if (problem !== undefined) return { action: 'wait', reason: problem };
  if (outdated.length === 0) return { action: 'done' };
  const slaves = outdated.filter((r) => r.pod !== group.masterPod);
  if (slaves.length > 0) return { action: 'restartSlave', pod: slaves[slaves.length - 1].pod };
  if (group.replicas.length === 1) {
    return { action: 'restartMaster', pod: group.masterPod, why: 'no slave' };
  }
  if (!group.failoverEnabled) {
    return { action: 'restartMaster', pod: group.masterPod, why: 'failover disabled' };
  }
  // Every slave is updated and in sync here; the one closest to the master takes over.
  const [target] = group.replicas
    .filter((r) => r.pod !== group.masterPod)
    .sort((a, b) => (a.lagBytes ?? 0) - (b.lagBytes ?? 0));
  return { action: 'switchover', from: group.masterPod, to: target.pod };
}
