import type { TopicConfig, TopicConfigSerializeWrapper } from '../../common/protocol/bodies';

/** A topic config as a broker reports it: `queues` read and write queues, perm RW by default. */
export function topicConfig(name: string, queues = 4, perm = 6): TopicConfig {
  return {
    order: false,
    perm,
    readQueueNums: queues,
    topicFilterType: 'SINGLE_TAG',
    topicName: name,
    topicSysFlag: 0,
    writeQueueNums: queues,
  };
}

/** A broker's topic table at DataVersion `counter`. */
export function topicTable(topics: TopicConfig[], counter = 1): TopicConfigSerializeWrapper {
  return {
    dataVersion: { counter, timestamp: 1_700_000_000_000 },
    topicConfigTable: Object.fromEntries(topics.map((t) => [t.topicName, t])),
  };
}
