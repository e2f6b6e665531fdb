import type { Logger } from '../common/logger';
import type { RemotingClient } from '../common/net/client';
import {
  Perm,
  type RegisterBrokerBody,
  type TopicConfigSerializeWrapper,
} from '../common/protocol/bodies';
import { NamesrvClient, type RegisterBrokerHeader } from '../client/namesrv-client';

/**
 * The topic configs as registered: a broker that is not readable and writable (brokerPermission,
 * e.g. made read-only before its group is removed) registers every topic with that permission,
 * as RocketMQ's registerBrokerAll does, so clients stop writing to it.
 */
export function registeredTopics(
  wrapper: TopicConfigSerializeWrapper,
  brokerPermission: number,
): TopicConfigSerializeWrapper {
  const readWrite = Perm.READ | Perm.WRITE;
  if ((brokerPermission & readWrite) === readWrite) return wrapper;
  const topicConfigTable: TopicConfigSerializeWrapper['topicConfigTable'] = {};
  for (const [name, config] of Object.entries(wrapper.topicConfigTable)) {
    topicConfigTable[name] = { ...config, perm: brokerPermission };
  }
  return { ...wrapper, topicConfigTable };
}

/**
 * Keeps the broker registered with every name server (BrokerOuterAPI): REGISTER_BROKER at start,
 * every `registerNameServerPeriod` and soon after each topic change (coalesced), and
 * UNREGISTER_BROKER on a clean stop. A name server that is down (or not up yet, as when a
 * local cluster starts) is logged and retried a second later.
 */
export class NamesrvRegistration {
  private readonly client: NamesrvClient;
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  private running?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    remoting: RemotingClient,
    /** Read on every round: `namesrvAddr` may change at run time (UPDATE_BROKER_CONFIG). */
    private readonly addresses: () => readonly string[],
    private readonly header: () => RegisterBrokerHeader,
    private readonly body: () => RegisterBrokerBody,
    private readonly logger: Logger,
    timeoutMs: number,
    /** Hears each name server's answer (a slave learns its master from it, §5.1). */
    private readonly onAnswer?: (masterAddr?: string, haServerAddr?: string) => void,
  ) {
    this.client = new NamesrvClient(remoting, timeoutMs);
  }

  /** Registers now, then every `periodMs`. */
  async start(periodMs: number): Promise<void> {
    await this.registerAll();
    this.timer = setInterval(() => void this.registerAll(), periodMs);
  }

  /** A topic changed: register again shortly (several changes in a burst make one request). */
  changed(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.registerAll();
    }, 10);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pending);
    clearTimeout(this.retry);
    await this.running;
    const { brokerName, brokerAddr, clusterName, brokerId } = this.header();
    await Promise.all(
      this.addresses().map((addr) =>
        this.client
          .unregisterBroker(addr, { brokerName, brokerAddr, clusterName, brokerId })
          .then(() => this.logger.info({ namesrv: addr }, 'unregistered from name server'))
          .catch((err: unknown) =>
            this.logger.warn({ namesrv: addr, err: (err as Error).message }, 'unregister failed'),
          ),
      ),
    );
  }

  /** One registration round; a round already running is waited for, then run again. */
  registerAll(): Promise<void> {
    const previous = this.running ?? Promise.resolve();
    const round = previous.then(() => this.registerRound());
    this.running = round;
    return round;
  }

  private retrySoon(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.registerAll();
    }, 1000);
  }

  private async registerRound(): Promise<void> {
    const header = this.header();
    const body = this.body();
    await Promise.all(
      this.addresses().map(async (addr) => {
        try {
          const answer = await this.client.registerBroker(addr, header, body);
          this.onAnswer?.(answer.masterAddr, answer.haServerAddr);
          this.logger.debug({ namesrv: addr }, 'registered with name server');
        } catch (err) {
          this.logger.warn(
            { namesrv: addr, err: (err as Error).message },
            'register with name server failed',
          );
          this.retrySoon();
        }
      }),
    );
  }
}
