/**
 * One broker's configuration: GET_BROKER_CONFIG / UPDATE_BROKER_CONFIG (settings as properties;
 * changes apply at once for the keys the broker takes live, are persisted for the rest),
 * GET_ALL_TOPIC_CONFIG (its topic configs) and GET_ALL_CONSUMER_OFFSET (committed offsets).
 */
import { parseProperties } from '../common/config';
import {
  decodeJsonBody,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
} from '../common/protocol/bodies';
import type { Logger } from '../common/logger';
import { RemotingClient } from '../common/net/client';
import { RequestCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import { expectCode } from './response';

export class BrokerConfigClient {
  private readonly remoting: RemotingClient;

  constructor(
    logger: Logger,
    private readonly timeoutMs = 3000,
  ) {
    this.remoting = new RemotingClient({ logger, connectTimeoutMs: timeoutMs });
  }

  async get(brokerAddr: string): Promise<Map<string, string>> {
    const r = expectCode(
      await this.remoting.invoke(
        brokerAddr,
        createRequest(RequestCode.GET_BROKER_CONFIG),
        this.timeoutMs,
      ),
    );
    return parseProperties(r.body?.toString('utf8') ?? '');
  }

  /** Sets `entries`; resolves with the broker's remark (what waits for a restart), if any. */
  async update(brokerAddr: string, entries: Record<string, string>): Promise<string | undefined> {
    const body = Buffer.from(
      Object.entries(entries)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      'utf8',
    );
    const r = expectCode(
      await this.remoting.invoke(
        brokerAddr,
        createRequest(RequestCode.UPDATE_BROKER_CONFIG, {}, body),
        this.timeoutMs,
      ),
    );
    return r.remark ?? undefined;
  }

  /** Every topic config the broker holds (system topics included). */
  async topicConfigs(brokerAddr: string): Promise<TopicConfig[]> {
    const r = expectCode(
      await this.remoting.invoke(
        brokerAddr,
        createRequest(RequestCode.GET_ALL_TOPIC_CONFIG),
        this.timeoutMs,
      ),
    );
    const wrapper = decodeJsonBody(r.body, 'topic configs') as Partial<TopicConfigSerializeWrapper>;
    if (typeof wrapper?.topicConfigTable !== 'object' || wrapper.topicConfigTable === null) {
      throw new Error(`${brokerAddr} answered GET_ALL_TOPIC_CONFIG without a topicConfigTable`);
    }
    return Object.values(wrapper.topicConfigTable);
  }

  /**
   * GET_ALL_CONSUMER_OFFSET: committed offsets as `topic@group` → queueId → offset
   * (ConsumerOffsetManager's table).
   */
  async consumerOffsets(brokerAddr: string): Promise<Map<string, Map<number, number>>> {
    const r = expectCode(
      await this.remoting.invoke(
        brokerAddr,
        createRequest(RequestCode.GET_ALL_CONSUMER_OFFSET),
        this.timeoutMs,
      ),
    );
    const body = decodeJsonBody(r.body, 'consumer offsets') as { offsetTable?: unknown };
    const table = body?.offsetTable;
    if (typeof table !== 'object' || table === null) {
      throw new Error(`${brokerAddr} answered GET_ALL_CONSUMER_OFFSET without an offsetTable`);
    }
    const out = new Map<string, Map<number, number>>();
    for (const [key, queues] of Object.entries(table as Record<string, Record<string, number>>)) {
      out.set(key, new Map(Object.entries(queues).map(([q, o]) => [Number(q), Number(o)])));
    }
    return out;
  }

  close(): void {
    this.remoting.close();
  }
}
