import type { Connection } from '../../common/net/connection';
import { encodeResetOffsetBody, type MessageQueue } from '../../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import {
  createRequest,
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import { ResetOffsetRequestHeader } from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';

/** How long the broker waits for each consumer to take the new offsets (Java: 5 s). */
const CLIENT_TIMEOUT_MS = 5000;
/** The header timestamp that means "the end of every queue" (Broker2Client.resetOffset). */
export const RESET_TO_LATEST = -1;

/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222), sent by `admin resetOffsetByTime` (Broker2Client
 * .resetOffset): for each queue of the topic on this broker, the first offset stored at or
 * after `timestamp` (−1: the queue's max offset; 0: its min offset). Without `isForce` a queue
 * only moves back. The offsets are committed here, so an offline group starts from them, and
 * sent with RESET_CONSUMER_CLIENT_OFFSET to every live consumer of the group, which drop what
 * they hold for those queues and pull from the new offsets. Answers with the offset table.
 */
export class ResetOffsetProcessor {
  constructor(private readonly ctx: BrokerContext) {}

  handle = async (request: RemotingCommand, conn: Connection): Promise<OutgoingCommand> => {
    const h = ResetOffsetRequestHeader.decode(request.extFields);
    const { topics, store, offsets, consumers, config, logger } = this.ctx;
    const topicConfig = topics.get(h.topic);
    if (!topicConfig) {
      throw new RemotingError(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
    }
    const offsetTable = new Map<MessageQueue, number>();
    for (let queueId = 0; queueId < topicConfig.readQueueNums; queueId++) {
      const target =
        h.timestamp === RESET_TO_LATEST
          ? store.getMaxOffsetInQueue(h.topic, queueId)
          : await store.getOffsetInQueueByTime(h.topic, queueId, h.timestamp);
      const current = offsets.query(h.group, h.topic, queueId);
      const offset = h.isForce || current < 0 || target < current ? target : current;
      offsets.commit(h.group, h.topic, queueId, offset);
      offsetTable.set({ topic: h.topic, brokerName: config.brokerName, queueId }, offset);
    }
    const body = encodeResetOffsetBody({ offsetTable });
    const group = consumers.get(h.group);
    const channels = group ? [...group.channels.values()] : [];
    await Promise.all(
      channels.map((channel) =>
        channel.connection
          .invoke(
            createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, request.extFields, body),
            CLIENT_TIMEOUT_MS,
          )
          .then((reply) => {
            if (reply.code !== ResponseCode.SUCCESS) throw new Error(reply.remark ?? 'refused');
          })
          .catch((err: unknown) =>
            logger.warn(
              { group: h.group, clientId: channel.clientId, err: String(err) },
              'consumer did not take the reset offsets',
            ),
          ),
      ),
    );
    logger.info(
      {
        remote: conn.remoteAddress,
        group: h.group,
        topic: h.topic,
        timestamp: h.timestamp,
        isForce: h.isForce,
        onlineConsumers: channels.length,
        offsets: Object.fromEntries([...offsetTable].map(([mq, o]) => [mq.queueId, o])),
      },
      'consume offsets reset',
    );
    return createResponse(request, ResponseCode.SUCCESS, { body });
  };
}
