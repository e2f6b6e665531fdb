import { encodeJsonBody } from '../../common/protocol/bodies';
import { RouteInfoManager, type BrokerIdentity } from '../../namesrv/route-info';
import { topicConfig as topic, topicTable as wrapper } from './fixtures';

/** The registry's rules without sockets or clocks: connections are tokens, time is a number. */

const brokerA: BrokerIdentity = {
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerAddr: '192.168.1.20:10911',
  brokerId: 0,
};
const brokerASlave: BrokerIdentity = { ...brokerA, brokerAddr: '192.168.1.21:10911', brokerId: 1 };
const brokerB: BrokerIdentity = {
  clusterName: 'OtherCluster',
  brokerName: 'broker-b',
  brokerAddr: '192.168.1.30:10911',
  brokerId: 0,
};
const HA = '192.168.1.20:10912';

describe('RouteInfoManager', () => {
  let routes: RouteInfoManager;
  beforeEach(() => {
    routes = new RouteInfoManager();
  });

  it('serves the route as the exact compact JSON of a Java name server (§5.2 example)', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('TopicTest')], 1), 'chan-a', 0);
    expect(encodeJsonBody(routes.pickupTopicRouteData('TopicTest')).toString()).toBe(
      '{"brokerDatas":[{"brokerAddrs":{"0":"192.168.1.20:10911"},"brokerName":"broker-a",' +
        '"cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":' +
        '"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}',
    );
    expect(
      encodeJsonBody(routes.pickupTopicRouteData('TopicTest', 'broker-a:4')).toString(),
    ).toContain('"filterServerTable":{},"orderTopicConf":"broker-a:4","queueDatas":[');
    expect(routes.pickupTopicRouteData('Unknown')).toBeUndefined();
  });

  it('takes topic configs from a master only when its DataVersion changed', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T', 4)], 1), 'chan', 0);
    // Same version: a heartbeat; its table is not looked at again.
    routes.registerBroker(brokerA, HA, wrapper([topic('T', 8), topic('New')], 1), 'chan', 1);
    expect(routes.pickupTopicRouteData('T')?.queueDatas[0].writeQueueNums).toBe(4);
    expect(routes.pickupTopicRouteData('New')).toBeUndefined();
    // New version: the table is applied.
    routes.registerBroker(brokerA, HA, wrapper([topic('T', 8), topic('New')], 2), 'chan', 2);
    expect(routes.pickupTopicRouteData('T')?.queueDatas[0].writeQueueNums).toBe(8);
    expect(routes.pickupTopicRouteData('New')).toBeDefined();
  });

  it('ignores a slave topic table and tells the slave its master and HA address', () => {
    expect(routes.registerBroker(brokerASlave, '', wrapper([topic('S')], 1), 'c1', 0)).toEqual({});
    expect(routes.pickupTopicRouteData('S')).toBeUndefined();
    routes.registerBroker(brokerA, HA, wrapper([topic('T')], 1), 'c0', 0);
    expect(routes.registerBroker(brokerASlave, '', wrapper([topic('S')], 1), 'c1', 1)).toEqual({
      masterAddr: brokerA.brokerAddr,
      haServerAddr: HA,
    });
    expect(routes.pickupTopicRouteData('T')?.brokerDatas[0].brokerAddrs).toEqual({
      '0': brokerA.brokerAddr,
      '1': brokerASlave.brokerAddr,
    });
  });

  it('replaces the old id of a slave promoted to master at the same address', () => {
    routes.registerBroker(brokerASlave, '', wrapper([], 1), 'c1', 0);
    routes.registerBroker({ ...brokerASlave, brokerId: 0 }, HA, wrapper([topic('T')], 2), 'c1', 1);
    expect(routes.getClusterInfo().brokerAddrTable['broker-a'].brokerAddrs).toEqual({
      '0': brokerASlave.brokerAddr,
    });
  });

  it('drops brokers silent for longer than the expiry, and keeps the ones that spoke', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T')], 1), 'ca', 0);
    routes.registerBroker(brokerB, HA, wrapper([topic('T')], 1), 'cb', 0);
    // QUERY_DATA_VERSION with an unchanged version counts as a heartbeat.
    expect(
      routes.queryDataVersion(brokerB.brokerAddr, wrapper([], 1).dataVersion, 100_000),
    ).toEqual({ changed: false, stored: wrapper([], 1).dataVersion });
    expect(routes.scanNotActiveBrokers(120_000, 120_000)).toEqual([]);
    expect(routes.scanNotActiveBrokers(120_001, 120_000)).toEqual([
      { brokerAddr: brokerA.brokerAddr, channel: 'ca' },
    ]);
    expect(routes.pickupTopicRouteData('T')?.queueDatas.map((q) => q.brokerName)).toEqual([
      'broker-b',
    ]);
    expect(routes.queryDataVersion(brokerA.brokerAddr, wrapper([], 1).dataVersion, 0)).toEqual({
      changed: true,
    });
    expect(routes.liveBrokerCount).toBe(1);
  });

  it('drops every broker registered on a connection when it closes', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T')], 1), 'shared', 0);
    routes.registerBroker(brokerB, HA, wrapper([topic('U')], 1), 'other', 0);
    expect(routes.onChannelDestroy('shared')).toEqual([brokerA.brokerAddr]);
    expect(routes.pickupTopicRouteData('T')).toBeUndefined();
    expect(routes.getClusterInfo().clusterAddrTable).toEqual({ OtherCluster: ['broker-b'] });
    expect(routes.onChannelDestroy('unknown')).toEqual([]);
  });

  it('lists topics overall, by cluster and the system topics named after clusters and groups', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T'), topic('DefaultCluster')], 1), 'a', 0);
    routes.registerBroker(brokerB, HA, wrapper([topic('U'), topic('broker-b')], 1), 'b', 0);
    expect(routes.getAllTopics().sort()).toEqual(['DefaultCluster', 'T', 'U', 'broker-b']);
    expect(routes.getTopicsByCluster('OtherCluster').sort()).toEqual(['U', 'broker-b']);
    expect(routes.getTopicsByCluster('NoCluster')).toEqual([]);
    expect(routes.getSystemTopics().sort()).toEqual(['DefaultCluster', 'broker-b']);
  });

  it('deletes a topic everywhere or only from one cluster', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T')], 1), 'a', 0);
    routes.registerBroker(brokerB, HA, wrapper([topic('T')], 1), 'b', 0);
    routes.deleteTopic('T', 'OtherCluster');
    expect(routes.pickupTopicRouteData('T')?.queueDatas.map((q) => q.brokerName)).toEqual([
      'broker-a',
    ]);
    routes.deleteTopic('T');
    expect(routes.pickupTopicRouteData('T')).toBeUndefined();
  });

  it('wipes and restores the WRITE bit of one group, counting its topics', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T'), topic('TBW102', 8, 7)], 1), 'a', 0);
    routes.registerBroker(brokerB, HA, wrapper([topic('T')], 1), 'b', 0);
    expect(routes.setWritePermOfBroker('broker-a', false)).toBe(2);
    const perms = (t: string) =>
      routes.pickupTopicRouteData(t)?.queueDatas.map((q) => [q.brokerName, q.perm]);
    expect(perms('T')).toEqual([
      ['broker-a', 4],
      ['broker-b', 6],
    ]);
    expect(perms('TBW102')).toEqual([['broker-a', 5]]);
    expect(routes.setWritePermOfBroker('broker-a', true)).toBe(2);
    expect(perms('TBW102')).toEqual([['broker-a', 7]]);
    expect(routes.setWritePermOfBroker('no-such-broker', false)).toBe(0);
  });
  it('refuses brokerId 0 to a master of an older epoch while the newer master is alive', () => {
    const masterOf = () => routes.pickupTopicRouteData('T')?.brokerDatas[0].brokerAddrs['0'];
    const promoted = { ...brokerASlave, brokerId: 0, haEpoch: 3 };
    routes.registerBroker({ ...brokerA, haEpoch: 2 }, HA, wrapper([topic('T')], 1), 'old', 0);
    routes.registerBroker(promoted, HA, wrapper([topic('T')], 1), 'new', 1);
    expect(masterOf()).toBe(promoted.brokerAddr);
    // The old master, back from a pause before it hears of epoch 3, re-registers as master.
    expect(() =>
      routes.registerBroker({ ...brokerA, haEpoch: 2 }, HA, wrapper([topic('T')], 1), 'old', 2),
    ).toThrow(`broker-a's master is ${promoted.brokerAddr} in epoch 3`);
    expect(masterOf()).toBe(promoted.brokerAddr);
    // Told of epoch 3 it registers as a slave, which leaves the new master in place.
    routes.registerBroker({ ...brokerA, brokerId: 2, haEpoch: 3 }, HA, wrapper([], 1), 'old', 3);
    expect(masterOf()).toBe(promoted.brokerAddr);
    // Once the newer master is gone, a claim (the controller's next decision) is taken again.
    routes.onChannelDestroy('new');
    routes.registerBroker({ ...brokerA, haEpoch: 4 }, HA, wrapper([topic('T')], 1), 'old', 4);
    expect(masterOf()).toBe(brokerA.brokerAddr);
  });

  it('keeps the last registration for brokers without an epoch (classic mode, Java brokers)', () => {
    routes.registerBroker(brokerA, HA, wrapper([topic('T')], 1), 'a', 0);
    routes.registerBroker({ ...brokerASlave, brokerId: 0 }, HA, wrapper([topic('T')], 1), 'b', 1);
    expect(routes.pickupTopicRouteData('T')?.brokerDatas[0].brokerAddrs['0']).toBe(
      brokerASlave.brokerAddr,
    );
  });
});
