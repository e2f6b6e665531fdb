import { defineHeader, optional, required } from './header-schema';

/**
 * Every request and response header of the protocol, declared once
 * (`shared/spec/remoting.md` §3). Field names are the Java field names, case included.
 */

// ---------------------------------------------------------------- name server (§3.2)

export const GetRouteInfoRequestHeader = defineHeader('GetRouteInfoRequestHeader', {
  topic: required.string,
  acceptStandardJsonOnly: optional.boolean,
});

export const RegisterBrokerRequestHeader = defineHeader('RegisterBrokerRequestHeader', {
  brokerName: required.string,
  brokerAddr: required.string,
  clusterName: required.string,
  haServerAddr: required.string,
  brokerId: required.long,
  compressed: optional.boolean,
  bodyCrc32: optional.int,
  /**
   * Ours, not RocketMQ's (Java name servers ignore unknown fields): the failover epoch of a
   * controller-mode broker, so a name server refuses a stale master's claim to brokerId 0.
   */
  haEpoch: optional.long,
});

export const RegisterBrokerResponseHeader = defineHeader('RegisterBrokerResponseHeader', {
  haServerAddr: optional.string,
  masterAddr: optional.string,
});

export const UnregisterBrokerRequestHeader = defineHeader('UnregisterBrokerRequestHeader', {
  brokerName: required.string,
  brokerAddr: required.string,
  clusterName: required.string,
  brokerId: required.long,
});

/** QUERY_DATA_VERSION carries the same identity as UNREGISTER_BROKER. */
export const QueryDataVersionRequestHeader = UnregisterBrokerRequestHeader;

export const QueryDataVersionResponseHeader = defineHeader('QueryDataVersionResponseHeader', {
  changed: required.boolean,
});

export const DeleteTopicFromNamesrvRequestHeader = defineHeader(
  'DeleteTopicFromNamesrvRequestHeader',
  { topic: required.string, clusterName: optional.string },
);

export const GetTopicsByClusterRequestHeader = defineHeader('GetTopicsByClusterRequestHeader', {
  cluster: required.string,
});

export const PutKVConfigRequestHeader = defineHeader('PutKVConfigRequestHeader', {
  namespace: required.string,
  key: required.string,
  value: required.string,
});

export const KVConfigKeyRequestHeader = defineHeader('GetKVConfigRequestHeader', {
  namespace: required.string,
  key: required.string,
});

export const GetKVConfigResponseHeader = defineHeader('GetKVConfigResponseHeader', {
  value: optional.string,
});

export const GetKVListByNamespaceRequestHeader = defineHeader('GetKVListByNamespaceRequestHeader', {
  namespace: required.string,
});

export const WipeWritePermOfBrokerRequestHeader = defineHeader(
  'WipeWritePermOfBrokerRequestHeader',
  { brokerName: required.string },
);

export const WipeWritePermOfBrokerResponseHeader = defineHeader(
  'WipeWritePermOfBrokerResponseHeader',
  { wipeTopicCount: required.int },
);

export const AddWritePermOfBrokerResponseHeader = defineHeader(
  'AddWritePermOfBrokerResponseHeader',
  { addTopicCount: required.int },
);

// ---------------------------------------------------------------- producer (§3.3)

/**
 * SEND_MESSAGE (10) uses the field names; SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320)
 * the one-letter `short` names of SendMessageRequestHeaderV2.
 */
export const SendMessageRequestHeader = defineHeader('SendMessageRequestHeader', {
  producerGroup: { ...required.string, short: 'a' },
  topic: { ...required.string, short: 'b' },
  defaultTopic: { ...required.string, short: 'c' },
  defaultTopicQueueNums: { ...required.int, short: 'd' },
  queueId: { ...required.int, short: 'e' },
  sysFlag: { ...required.int, short: 'f' },
  bornTimestamp: { ...required.long, short: 'g' },
  flag: { ...required.int, short: 'h' },
  properties: { ...optional.string, short: 'i' },
  reconsumeTimes: { ...optional.int, short: 'j' },
  unitMode: { ...optional.boolean, short: 'k' },
  maxReconsumeTimes: { ...optional.int, short: 'l' },
  batch: { ...optional.boolean, short: 'm' },
  bname: { ...optional.string, short: 'n' },
});

export const SendMessageResponseHeader = defineHeader('SendMessageResponseHeader', {
  msgId: required.string,
  queueId: required.int,
  queueOffset: required.long,
  transactionId: optional.string,
  MSG_REGION: optional.string,
  TRACE_ON: optional.string,
});

export const EndTransactionRequestHeader = defineHeader('EndTransactionRequestHeader', {
  producerGroup: required.string,
  tranStateTableOffset: required.long,
  commitLogOffset: required.long,
  commitOrRollback: required.int,
  fromTransactionCheck: optional.boolean,
  msgId: required.string,
  transactionId: optional.string,
});

export const CheckTransactionStateRequestHeader = defineHeader(
  'CheckTransactionStateRequestHeader',
  {
    tranStateTableOffset: required.long,
    commitLogOffset: required.long,
    msgId: optional.string,
    transactionId: optional.string,
    offsetMsgId: optional.string,
  },
);

// ---------------------------------------------------------------- consumer (§3.4, §7)

export const PullMessageRequestHeader = defineHeader('PullMessageRequestHeader', {
  consumerGroup: required.string,
  topic: required.string,
  queueId: required.int,
  queueOffset: required.long,
  maxMsgNums: required.int,
  sysFlag: required.int,
  commitOffset: required.long,
  suspendTimeoutMillis: required.long,
  subscription: optional.string,
  subVersion: required.long,
  expressionType: optional.string,
  bname: optional.string,
});

export const PullMessageResponseHeader = defineHeader('PullMessageResponseHeader', {
  suggestWhichBrokerId: required.long,
  nextBeginOffset: required.long,
  minOffset: required.long,
  maxOffset: required.long,
});

export const UnregisterClientRequestHeader = defineHeader('UnregisterClientRequestHeader', {
  clientID: required.string,
  producerGroup: optional.string,
  consumerGroup: optional.string,
});

export const GetConsumerListByGroupRequestHeader = defineHeader(
  'GetConsumerListByGroupRequestHeader',
  { consumerGroup: required.string },
);

export const QueryConsumerOffsetRequestHeader = defineHeader('QueryConsumerOffsetRequestHeader', {
  consumerGroup: required.string,
  topic: required.string,
  queueId: required.int,
});

export const UpdateConsumerOffsetRequestHeader = defineHeader('UpdateConsumerOffsetRequestHeader', {
  consumerGroup: required.string,
  topic: required.string,
  queueId: required.int,
  commitOffset: required.long,
});

/** GET_MAX_OFFSET, GET_MIN_OFFSET and GET_EARLIEST_MSG_STORETIME all name a queue. */
export const QueueRequestHeader = defineHeader('GetMaxOffsetRequestHeader', {
  topic: required.string,
  queueId: required.int,
});

export const OffsetResponseHeader = defineHeader('GetMaxOffsetResponseHeader', {
  offset: required.long,
});

export const SearchOffsetRequestHeader = defineHeader('SearchOffsetRequestHeader', {
  topic: required.string,
  queueId: required.int,
  timestamp: required.long,
});

export const GetEarliestMsgStoretimeResponseHeader = defineHeader(
  'GetEarliestMsgStoretimeResponseHeader',
  { timestamp: required.long },
);

export const ConsumerSendMsgBackRequestHeader = defineHeader('ConsumerSendMsgBackRequestHeader', {
  offset: required.long,
  group: required.string,
  delayLevel: required.int,
  originMsgId: optional.string,
  originTopic: optional.string,
  unitMode: optional.boolean,
  maxReconsumeTimes: optional.int,
});

export const NotifyConsumerIdsChangedRequestHeader = defineHeader(
  'NotifyConsumerIdsChangedRequestHeader',
  { consumerGroup: required.string },
);

export const ResetOffsetRequestHeader = defineHeader('ResetOffsetRequestHeader', {
  topic: required.string,
  group: required.string,
  timestamp: required.long,
  isForce: required.boolean,
});

export const GetConsumerRunningInfoRequestHeader = defineHeader(
  'GetConsumerRunningInfoRequestHeader',
  { consumerGroup: required.string, clientId: required.string, jstackEnable: optional.boolean },
);

// ---------------------------------------------------------------- queries (§3.5)

export const QueryMessageRequestHeader = defineHeader('QueryMessageRequestHeader', {
  topic: required.string,
  key: required.string,
  maxNum: required.int,
  beginTimestamp: required.long,
  endTimestamp: required.long,
});

export const QueryMessageResponseHeader = defineHeader('QueryMessageResponseHeader', {
  indexLastUpdateTimestamp: required.long,
  indexLastUpdatePhyoffset: required.long,
});

export const ViewMessageRequestHeader = defineHeader('ViewMessageRequestHeader', {
  offset: required.long,
});

// ---------------------------------------------------------------- admin (§3.6)

export const CreateTopicRequestHeader = defineHeader('CreateTopicRequestHeader', {
  topic: required.string,
  defaultTopic: required.string,
  readQueueNums: required.int,
  writeQueueNums: required.int,
  perm: required.int,
  topicFilterType: required.string,
  topicSysFlag: optional.int,
  order: required.boolean,
});

export const TopicRequestHeader = defineHeader('DeleteTopicRequestHeader', {
  topic: required.string,
});

export const DeleteSubscriptionGroupRequestHeader = defineHeader(
  'DeleteSubscriptionGroupRequestHeader',
  { groupName: required.string, removeOffset: optional.boolean },
);

export const ConsumerGroupRequestHeader = defineHeader('GetConsumerConnectionListRequestHeader', {
  consumerGroup: required.string,
});

export const GetConsumeStatsRequestHeader = defineHeader('GetConsumeStatsRequestHeader', {
  consumerGroup: required.string,
  topic: optional.string,
});

export const ProducerGroupRequestHeader = defineHeader('GetProducerConnectionListRequestHeader', {
  producerGroup: required.string,
});
