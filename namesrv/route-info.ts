import {
  type BrokerData,
  type ClusterInfo,
  type DataVersion,
  Perm,
  type QueueData,
  type TopicConfigSerializeWrapper,
  type TopicRouteData,
  sameDataVersion,
} from '../common/protocol/bodies';

/** Who a broker is, as REGISTER_BROKER and UNREGISTER_BROKER name it. */
export interface BrokerIdentity {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  /** The failover epoch a controller-mode broker registers with (absent for classic brokers). */
  haEpoch?: number;
}

interface BrokerLiveInfo {
  lastUpdateTimestamp: number;
  dataVersion: DataVersion;
  haServerAddr: string;
  /** The connection the broker registered on; its close removes the broker at once. */
  channel: unknown;
}

interface BrokerGroup {
  cluster: string;
  brokerName: string;
  /** brokerId → address. */
  brokerAddrs: Map<number, string>;
  /** The epoch the current brokerId-0 entry registered with, if it gave one. */
  masterEpoch?: number;
}

export interface RegisterResult {
  masterAddr?: string;
  haServerAddr?: string;
}

/** A registration refused because a newer master of the group is alive. */
export class StaleMasterError extends Error {}

/**
 * The name server's route registry (`broker-internals.md` §7): all in memory, rebuilt by the
 * brokers' periodic registrations. Pure bookkeeping: time and connections are passed in, so
 * the rules can be tested without sockets or clocks.
 */
export class RouteInfoManager {
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  private readonly brokerAddrTable = new Map<string, BrokerGroup>();
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();

  registerBroker(
    broker: BrokerIdentity,
    haServerAddr: string,
    topics: TopicConfigSerializeWrapper,
    channel: unknown,
    now: number,
  ): RegisterResult {
    const { clusterName, brokerName, brokerAddr, brokerId } = broker;
    const stale = this.staleMasterClaim(broker);
    if (stale !== undefined) throw new StaleMasterError(stale);
    let cluster = this.clusterAddrTable.get(clusterName);
    if (!cluster) this.clusterAddrTable.set(clusterName, (cluster = new Set()));
    cluster.add(brokerName);

    let group = this.brokerAddrTable.get(brokerName);
    const firstOfGroup = !group;
    if (!group) {
      group = { cluster: clusterName, brokerName, brokerAddrs: new Map() };
      this.brokerAddrTable.set(brokerName, group);
    }
    // A broker that changed its id (a slave promoted to master) replaces its old entry.
    for (const [id, addr] of group.brokerAddrs) {
      if (addr === brokerAddr && id !== brokerId) group.brokerAddrs.delete(id);
    }
    const firstOfAddr = group.brokerAddrs.get(brokerId) !== brokerAddr;
    group.brokerAddrs.set(brokerId, brokerAddr);
    if (brokerId === 0) group.masterEpoch = broker.haEpoch;

    const previous = this.brokerLiveTable.get(brokerAddr);
    if (brokerId === 0) {
      const changed = !sameDataVersion(previous?.dataVersion, topics.dataVersion);
      if (changed || firstOfGroup || firstOfAddr) {
        for (const config of Object.values(topics.topicConfigTable)) {
          this.putQueueData(
            brokerName,
            {
              brokerName,
              perm: config.perm,
              readQueueNums: config.readQueueNums,
              topicSysFlag: config.topicSysFlag,
              writeQueueNums: config.writeQueueNums,
            },
            config.topicName,
          );
        }
      }
    }
    this.brokerLiveTable.set(brokerAddr, {
      lastUpdateTimestamp: now,
      dataVersion: topics.dataVersion,
      haServerAddr,
      channel,
    });

    if (brokerId === 0) return {};
    const masterAddr = group.brokerAddrs.get(0);
    const master = masterAddr ? this.brokerLiveTable.get(masterAddr) : undefined;
    return master ? { masterAddr, haServerAddr: master.haServerAddr } : {};
  }

  /**
   * A master of an older epoch (back from a partition or a long pause, not yet told it was
   * replaced) must not take brokerId 0 from a live master of a newer epoch: clients would send
   * to a broker that is about to be fenced, for up to a route refresh. Why, or undefined.
   */
  private staleMasterClaim(broker: BrokerIdentity): string | undefined {
    if (broker.brokerId !== 0 || broker.haEpoch === undefined) return undefined;
    const group = this.brokerAddrTable.get(broker.brokerName);
    const current = group?.brokerAddrs.get(0);
    if (group?.masterEpoch === undefined || current === undefined) return undefined;
    if (current === broker.brokerAddr || !this.brokerLiveTable.has(current)) return undefined;
    if (broker.haEpoch >= group.masterEpoch) return undefined;
    return (
      `${broker.brokerName}'s master is ${current} in epoch ${group.masterEpoch}; ` +
      `${broker.brokerAddr} claims it in epoch ${broker.haEpoch}`
    );
  }

  private putQueueData(brokerName: string, queueData: QueueData, topic: string): void {
    let queues = this.topicQueueTable.get(topic);
    if (!queues) this.topicQueueTable.set(topic, (queues = new Map()));
    queues.set(brokerName, queueData);
  }

  unregisterBroker(broker: BrokerIdentity): void {
    this.removeBrokerAddress(broker.brokerAddr, broker.brokerName, broker.clusterName);
  }

  /** A closed connection removes every broker registered on it (§7.3). Returns their addresses. */
  onChannelDestroy(channel: unknown): string[] {
    const removed: string[] = [];
    for (const [addr, live] of this.brokerLiveTable) {
      if (live.channel === channel) removed.push(addr);
    }
    for (const addr of removed) this.removeBrokerAddress(addr);
    return removed;
  }

  /**
   * Drops brokers silent for longer than `expiryMs`. Returns their addresses and the
   * connections they registered on, which the caller closes as Java does.
   */
  scanNotActiveBrokers(now: number, expiryMs: number): { brokerAddr: string; channel: unknown }[] {
    const expired: { brokerAddr: string; channel: unknown }[] = [];
    for (const [brokerAddr, live] of this.brokerLiveTable) {
      if (live.lastUpdateTimestamp + expiryMs < now) {
        expired.push({ brokerAddr, channel: live.channel });
      }
    }
    for (const { brokerAddr } of expired) this.removeBrokerAddress(brokerAddr);
    return expired;
  }

  /** QUERY_DATA_VERSION: refreshes liveness; true when our stored version differs. */
  queryDataVersion(
    brokerAddr: string,
    dataVersion: DataVersion,
    now: number,
  ): {
    changed: boolean;
    stored?: DataVersion;
  } {
    const live = this.brokerLiveTable.get(brokerAddr);
    if (!live) return { changed: true };
    const changed = !sameDataVersion(live.dataVersion, dataVersion);
    if (!changed) live.lastUpdateTimestamp = now;
    return { changed, stored: live.dataVersion };
  }

  private removeBrokerAddress(addr: string, brokerNameHint?: string, clusterHint?: string): void {
    this.brokerLiveTable.delete(addr);
    for (const group of this.brokerAddrTable.values()) {
      if (brokerNameHint && group.brokerName !== brokerNameHint) continue;
      for (const [id, a] of group.brokerAddrs) if (a === addr) group.brokerAddrs.delete(id);
      if (group.brokerAddrs.size > 0) continue;
      // The group's last address is gone: the group, its queues and emptied topics go too.
      this.brokerAddrTable.delete(group.brokerName);
      const clusterName = clusterHint ?? group.cluster;
      const cluster = this.clusterAddrTable.get(clusterName);
      cluster?.delete(group.brokerName);
      if (cluster?.size === 0) this.clusterAddrTable.delete(clusterName);
      for (const [topic, queues] of this.topicQueueTable) {
        queues.delete(group.brokerName);
        if (queues.size === 0) this.topicQueueTable.delete(topic);
      }
    }
  }

  /** The route of a topic, or undefined when no live broker group serves it. */
  pickupTopicRouteData(topic: string, orderTopicConf?: string): TopicRouteData | undefined {
    const queues = this.topicQueueTable.get(topic);
    if (!queues || queues.size === 0) return undefined;
    const brokerDatas: BrokerData[] = [];
    for (const brokerName of queues.keys()) {
      const group = this.brokerAddrTable.get(brokerName);
      if (group) brokerDatas.push(toBrokerData(group));
    }
    if (brokerDatas.length === 0) return undefined;
    // Keys in fastjson's alphabetical order, as a Java name server writes them (§5.2).
    return {
      brokerDatas,
      filterServerTable: {},
      ...(orderTopicConf ? { orderTopicConf } : {}),
      queueDatas: [...queues.values()].map((q) => ({ ...q })),
    };
  }

  getClusterInfo(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const [name, group] of this.brokerAddrTable) brokerAddrTable[name] = toBrokerData(group);
    const clusterAddrTable: Record<string, string[]> = {};
    for (const [name, brokers] of this.clusterAddrTable) clusterAddrTable[name] = [...brokers];
    return { brokerAddrTable, clusterAddrTable };
  }

  getAllTopics(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  getTopicsByCluster(clusterName: string): string[] {
    const brokers = this.clusterAddrTable.get(clusterName);
    if (!brokers) return [];
    const topics: string[] = [];
    for (const [topic, queues] of this.topicQueueTable) {
      for (const brokerName of queues.keys()) {
        if (brokers.has(brokerName)) {
          topics.push(topic);
          break;
        }
      }
    }
    return topics;
  }

  /** The topics named after clusters and broker groups, which a broker creates for itself. */
  getSystemTopics(): string[] {
    const names = new Set<string>();
    for (const [cluster, brokers] of this.clusterAddrTable) {
      names.add(cluster);
      for (const b of brokers) names.add(b);
    }
    return [...names].filter((n) => this.topicQueueTable.has(n));
  }

  /** Deletes a topic everywhere, or only from the broker groups of one cluster. */
  deleteTopic(topic: string, clusterName?: string): void {
    if (!clusterName) {
      this.topicQueueTable.delete(topic);
      return;
    }
    const queues = this.topicQueueTable.get(topic);
    const brokers = this.clusterAddrTable.get(clusterName);
    if (!queues || !brokers) return;
    for (const brokerName of brokers) queues.delete(brokerName);
    if (queues.size === 0) this.topicQueueTable.delete(topic);
  }

  /** Clears (wipe) or sets (add) the WRITE bit of a group's queues; returns how many topics. */
  setWritePermOfBroker(brokerName: string, writable: boolean): number {
    let count = 0;
    for (const queues of this.topicQueueTable.values()) {
      const q = queues.get(brokerName);
      if (!q) continue;
      q.perm = writable ? q.perm | Perm.WRITE : q.perm & ~Perm.WRITE;
      count++;
    }
    return count;
  }

  get liveBrokerCount(): number {
    return this.brokerLiveTable.size;
  }
}

function toBrokerData(group: BrokerGroup): BrokerData {
  const brokerAddrs: Record<string, string> = {};
  for (const [id, addr] of [...group.brokerAddrs].sort((a, b) => a[0] - b[0])) {
    brokerAddrs[String(id)] = addr;
  }
  return { brokerAddrs, brokerName: group.brokerName, cluster: group.cluster };
}
