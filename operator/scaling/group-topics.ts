import type { V1Pod } from '@kubernetes/client-node';
import { AdminClient } from '../../client/admin-client';
import type { BrokerConfigClient } from '../../client/broker-config-client';
import type { Logger } from '../../common/logger';
import type { TopicConfig } from '../../common/protocol/bodies';
import type { RocketMQCluster } from '../api/types';
import { recordEvent } from '../controller/events';
import type { KubeGateway } from '../controller/kube-gateway';
import { podReady } from '../controller/status';
import type { AddressResolver } from '../failover/failover-manager';
import { masterOrdinal } from '../reconcile/broker-config';
import { failoverStateOf, groupNames } from '../reconcile/desired';
import {
  brokerPodAddress,
  groupObjectName,
  nameServerAddresses,
  podName,
} from '../reconcile/names';

/** Topics every broker creates for itself (RocketMQ's system topics), never copied. */
const BUILT_IN = new Set([
  'TBW102',
  'SELF_TEST_TOPIC',
  'BenchmarkTest',
  'OFFSET_MOVED_EVENT',
  'SCHEDULE_TOPIC_XXXX',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'RMQ_SYS_TRACE_TOPIC',
]);

/** A topic users created (not a system, retry or DLQ topic, nor one named after the cluster or a group). */
export function isUserTopic(cluster: RocketMQCluster, topic: string, groups: readonly string[]) {
  const name = cluster.metadata.name;
  return !(
    BUILT_IN.has(topic) ||
    topic === name ||
    topic === `${name}_REPLY_TOPIC` ||
    groups.includes(topic) ||
    /^(%RETRY%|%DLQ%|RMQ_SYS_|rmq_sys_)/.test(topic)
  );
}

/**
 * The topics a new broker group should get: the user topics of the other groups' masters, when
 * the group has none of its own yet (a group that has topics was set up on purpose and is left
 * alone). A topic on several groups takes the first group's settings.
 */
export function topicsForNewGroup(
  cluster: RocketMQCluster,
  target: readonly TopicConfig[],
  others: readonly (readonly TopicConfig[])[],
): TopicConfig[] {
  const groups = groupNames(cluster);
  if (target.some((t) => isUserTopic(cluster, t.topicName, groups))) return [];
  const wanted = new Map<string, TopicConfig>();
  for (const configs of others) {
    for (const t of configs) {
      if (isUserTopic(cluster, t.topicName, groups) && !wanted.has(t.topicName)) {
        wanted.set(t.topicName, t);
      }
    }
  }
  return [...wanted.values()];
}

/**
 * Scale-out of broker groups: a group whose master is ready and has no user topics gets the
 * topic configs of the existing groups through the admin API (UPDATE_AND_CREATE_TOPIC on its
 * master, which registers them with the NameServers), so producers start using it at once.
 */
export class GroupTopicSync {
  constructor(
    private readonly kube: KubeGateway,
    private readonly brokers: BrokerConfigClient,
    private readonly logger: Logger,
    private readonly resolve: AddressResolver = (addr) => addr,
  ) {}

  async sync(cluster: RocketMQCluster, brokerPods: readonly V1Pod[]): Promise<void> {
    const groups = groupNames(cluster);
    if (groups.length < 2) return;
    const failover = failoverStateOf(cluster);
    const pods = new Map(brokerPods.map((p) => [p.metadata?.name ?? '', p]));
    // Masters that can be asked now: ready, and (with failover) elected.
    const masters = new Map<string, string>();
    for (const group of groups) {
      const elected = !cluster.spec.failover.enabled || (failover.get(group)?.epoch ?? 0) > 0;
      const ordinal = masterOrdinal(failover, group);
      if (elected && podReady(pods.get(podName(groupObjectName(cluster, group), ordinal)))) {
        masters.set(group, this.resolve(brokerPodAddress(cluster, group, ordinal)));
      }
    }
    if (masters.size < 2) return;
    try {
      const topics = new Map<string, TopicConfig[]>();
      for (const [group, addr] of masters) topics.set(group, await this.brokers.topicConfigs(addr));
      for (const [group, addr] of masters) {
        const others = [...topics].filter(([g]) => g !== group).map(([, t]) => t);
        const copy = topicsForNewGroup(cluster, topics.get(group) ?? [], others);
        if (copy.length > 0) await this.copy(cluster, group, addr, copy);
      }
    } catch (err) {
      this.logger.warn(
        { cluster: cluster.metadata.name, err: (err as Error).message },
        'could not copy topic configs to a new broker group; retried at the next reconcile',
      );
    }
  }

  private async copy(
    cluster: RocketMQCluster,
    group: string,
    addr: string,
    topics: TopicConfig[],
  ): Promise<void> {
    const admin = new AdminClient({
      namesrvAddr: nameServerAddresses(cluster)
        .split(';')
        .map((a) => this.resolve(a)),
      logger: this.logger,
    });
    try {
      for (const t of topics) {
        await admin.createTopic(addr, {
          topic: t.topicName,
          readQueueNums: t.readQueueNums,
          writeQueueNums: t.writeQueueNums,
          perm: t.perm,
          order: t.order,
        });
      }
    } finally {
      admin.close();
    }
    const names = topics.map((t) => t.topicName).sort();
    this.logger.info(
      { cluster: cluster.metadata.name, group, topics: names },
      'topics copied to a new group',
    );
    await recordEvent(
      this.kube,
      this.logger,
      cluster,
      'Normal',
      'TopicsCopied',
      `group ${group} got the topic configs of the other groups: ${names.join(', ')}`,
    );
  }
}
