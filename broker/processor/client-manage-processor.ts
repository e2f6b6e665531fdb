import type { Connection } from '../../common/net/connection';
import { Perm } from '../../common/protocol/bodies';
import {
  decodeCheckClientRequestBody,
  decodeHeartbeatData,
} from '../../common/protocol/broker-bodies';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import { UnregisterClientRequestHeader } from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';
import type { ClientChannel } from '../client/client-channel';
import { checkSubscriptionFilter } from '../filter/sql92-message-filter';
import { retryTopicOf } from '../metadata/system-topics';

/**
 * HEART_BEAT (34), UNREGISTER_CLIENT (35) and CHECK_CLIENT_CONFIG (46): the client tables the
 * rebalance depends on (remoting.md §3.4).
 */
export class ClientManageProcessor {
  constructor(private readonly ctx: BrokerContext) {}

  heartbeat = async (request: RemotingCommand, conn: Connection): Promise<OutgoingCommand> => {
    const data = decodeHeartbeatData(request.body);
    // A subscription this broker cannot filter is refused as it arrives, before anything of
    // the heartbeat is registered, so it never reaches the pull path (§12.2).
    for (const consumer of data.consumerDataSet) {
      for (const sub of consumer.subscriptionDataSet) {
        try {
          checkSubscriptionFilter(sub, this.ctx.config.enablePropertyFilter);
        } catch (err) {
          this.ctx.logger.warn(
            {
              clientId: data.clientID,
              group: consumer.groupName,
              topic: sub.topic,
              err: String(err),
            },
            'heartbeat refused: subscription cannot be filtered',
          );
          throw err;
        }
      }
    }
    const channel: ClientChannel = {
      connection: conn,
      clientId: data.clientID,
      language: request.language,
      version: request.version,
      lastUpdateTimestamp: Date.now(),
    };
    for (const consumer of data.consumerDataSet) {
      const groupConfig = this.ctx.subscriptionGroups.findOrCreate(consumer.groupName);
      if (groupConfig) {
        // Every group gets its retry topic, so the name servers can route `%RETRY%<group>`.
        await this.ctx.topics.getOrCreate(
          retryTopicOf(consumer.groupName),
          groupConfig.retryQueueNums,
          Perm.READ | Perm.WRITE,
        );
      }
      this.ctx.consumers.register(consumer, channel);
    }
    for (const producer of data.producerDataSet) {
      this.ctx.producers.register(producer.groupName, channel);
    }
    return createResponse(request, ResponseCode.SUCCESS);
  };

  unregisterClient = (request: RemotingCommand, conn: Connection): OutgoingCommand => {
    const h = UnregisterClientRequestHeader.decode(request.extFields);
    if (h.producerGroup) this.ctx.producers.unregister(h.producerGroup, conn);
    if (h.consumerGroup) this.ctx.consumers.unregister(h.consumerGroup, conn);
    return createResponse(request, ResponseCode.SUCCESS);
  };

  checkClientConfig = (request: RemotingCommand): OutgoingCommand => {
    const body = decodeCheckClientRequestBody(request.body);
    if (!this.ctx.subscriptionGroups.findOrCreate(body.group)) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${body.group}`,
      );
    }
    checkSubscriptionFilter(body.subscriptionData, this.ctx.config.enablePropertyFilter);
    return createResponse(request, ResponseCode.SUCCESS);
  };
}
