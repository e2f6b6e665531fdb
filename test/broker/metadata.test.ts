import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/logger';
import { defaultBrokerConfig } from '../../broker/broker-config';
import { metadataPaths } from '../../broker/metadata/config-file';
import { ConsumerOffsetManager } from '../../broker/metadata/consumer-offset-manager';
import { SubscriptionGroupManager } from '../../broker/metadata/subscription-group-manager';
import { TopicConfigManager } from '../../broker/metadata/topic-config-manager';

const logger = createLogger('test', 'silent');
const settings = { ...defaultBrokerConfig(), brokerName: 'broker-a' };

describe('broker metadata files', () => {
  let dir: string;
  let paths: ReturnType<typeof metadataPaths>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rmqts-meta-'));
    paths = metadataPaths(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the system topics, TBW102 with perm 7 and defaultTopicQueueNums queues', () => {
    const topics = new TopicConfigManager(paths.topics, settings, logger);
    expect(topics.get('TBW102')).toMatchObject({ perm: 7, readQueueNums: 8, writeQueueNums: 8 });
    expect(topics.get('SCHEDULE_TOPIC_XXXX')?.readQueueNums).toBe(18);
    expect(topics.get('DefaultCluster')).toBeDefined();
    expect(topics.get('broker-a')).toBeDefined();
    const off = new TopicConfigManager(
      paths.topics,
      { ...settings, autoCreateTopicEnable: false },
      logger,
    );
    expect(off.get('TBW102')).toBeUndefined();
  });

  it('auto-creates from TBW102 with min(client, template) queues and perm 6, and keeps it across a restart', async () => {
    const topics = new TopicConfigManager(paths.topics, settings, logger);
    const before = topics.dataVersion.counter;
    const created = await topics.createFromTemplate('Orders', 'TBW102', 4, 0, '10.0.0.5:1');
    expect(created).toMatchObject({ topicName: 'Orders', perm: 6, readQueueNums: 4 });
    expect(topics.dataVersion.counter).toBe(before + 1);
    await topics.getOrCreate('%RETRY%cg', 1, 6);

    const file = JSON.parse(readFileSync(paths.topics, 'utf8')) as {
      topicConfigTable: Record<string, unknown>;
    };
    expect(Object.keys(file.topicConfigTable)).toEqual(
      expect.arrayContaining(['Orders', '%RETRY%cg']),
    );
    const again = new TopicConfigManager(paths.topics, settings, logger);
    await again.load();
    expect(again.get('Orders')).toEqual(created);
    expect(again.get('%RETRY%cg')?.writeQueueNums).toBe(1);
    expect(again.dataVersion).toEqual(topics.dataVersion);
  });

  it('refuses to auto-create from a template without INHERIT', async () => {
    const topics = new TopicConfigManager(
      paths.topics,
      { ...settings, autoCreateTopicEnable: false },
      logger,
    );
    expect(await topics.createFromTemplate('Orders', 'TBW102', 4, 0, 'x')).toBeUndefined();
    expect(await topics.createFromTemplate('Orders', 'SELF_TEST_TOPIC', 4, 0, 'x')).toBeUndefined();
  });

  it('falls back to topics.json.bak when topics.json is torn, and fails clearly when both are', async () => {
    const topics = new TopicConfigManager(paths.topics, settings, logger);
    await topics.getOrCreate('First', 2, 6);
    await topics.getOrCreate('Second', 2, 6); // the .bak now holds First
    writeFileSync(paths.topics, '{"dataVersion":{"counter":3,"time');
    const recovered = new TopicConfigManager(paths.topics, settings, logger);
    await recovered.load();
    expect(recovered.get('First')).toBeDefined();

    writeFileSync(`${paths.topics}.bak`, 'garbage');
    const broken = new TopicConfigManager(paths.topics, settings, logger);
    await expect(broken.load()).rejects.toThrow(/cannot load .*topics\.json/);
  });

  it('persists consumer offsets as "topic@group" → {queueId: offset} and reads fastjson keys', async () => {
    const offsets = new ConsumerOffsetManager(paths.consumerOffset, logger);
    offsets.commit('cg', 'T', 0, 250);
    offsets.commit('cg', 'T', 1, 251);
    offsets.commit('cg', 'T', 2, -1); // ali-ons commits −1 for untouched queues
    await offsets.stop();
    const file = JSON.parse(readFileSync(paths.consumerOffset, 'utf8')) as unknown;
    expect(file).toEqual({ offsetTable: { 'T@cg': { '0': 250, '1': 251 } } });

    writeFileSync(paths.consumerOffset, '{"offsetTable":{"TopicTest@group1":{0:7,1:8}}}');
    const javaWritten = new ConsumerOffsetManager(paths.consumerOffset, logger);
    await javaWritten.load();
    expect(javaWritten.query('group1', 'TopicTest', 1)).toBe(8);
    expect(javaWritten.query('group1', 'TopicTest', 5)).toBe(-1);
    expect(javaWritten.topicsOfGroup('group1')).toEqual(['TopicTest']);
  });

  it('gives a clear error for a garbage consumerOffset.json without backup', async () => {
    writeFileSync(paths.consumerOffset, '{"offsetTable":[1,2');
    const offsets = new ConsumerOffsetManager(paths.consumerOffset, logger);
    await expect(offsets.load()).rejects.toThrow(/cannot load .*consumerOffset\.json/);
  });

  it('auto-creates subscription groups and keeps them across a restart', async () => {
    const groups = new SubscriptionGroupManager(paths.subscriptionGroup, true, logger);
    expect(groups.findOrCreate('cg')).toMatchObject({ retryMaxTimes: 16, retryQueueNums: 1 });
    await groups.update({ ...groups.get('cg')!, retryMaxTimes: 3 });
    const again = new SubscriptionGroupManager(paths.subscriptionGroup, false, logger);
    await again.load();
    expect(again.get('cg')?.retryMaxTimes).toBe(3);
    expect(again.findOrCreate('unknown')).toBeUndefined();
  });
});
