/**
 * Topic routes from the name servers, kept fresh by polling (every 30 s, as the Java client),
 * and the broker address table they imply.
 */
import type { Logger } from '../common/logger';
import type { TopicRouteData } from '../common/protocol/bodies';
import type { NamesrvClient } from './namesrv-client';
import { MASTER_ID } from './route';

export class RouteCache {
  private readonly routes = new Map<string, TopicRouteData>();
  /** brokerName → brokerId → address, merged from every route seen. */
  private readonly brokers = new Map<string, Record<string, string>>();
  private namesrvIndex: number;

  constructor(
    private readonly namesrv: NamesrvClient,
    private readonly namesrvAddrs: readonly string[],
    private readonly logger: Logger,
  ) {
    if (namesrvAddrs.length === 0) throw new Error('no name server address given');
    this.namesrvIndex = Math.floor(Math.random() * namesrvAddrs.length);
  }

  /** Calls the name servers in turn, starting with the last one that answered. */
  async onNamesrv<T>(call: (addr: string) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let i = 0; i < this.namesrvAddrs.length; i++) {
      const index = (this.namesrvIndex + i) % this.namesrvAddrs.length;
      try {
        const result = await call(this.namesrvAddrs[index]);
        this.namesrvIndex = index;
        return result;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** The cached route of `topic`, fetching it when there is none. */
  async route(topic: string): Promise<TopicRouteData | undefined> {
    return this.routes.get(topic) ?? this.fetch(topic);
  }

  cached(topic: string): TopicRouteData | undefined {
    return this.routes.get(topic);
  }

  /** Asks the name server for `topic`'s route; undefined if it has none. */
  async fetch(topic: string): Promise<TopicRouteData | undefined> {
    const route = await this.onNamesrv((addr) => this.namesrv.getRouteInfo(addr, topic));
    if (!route) {
      this.routes.delete(topic);
      return undefined;
    }
    this.routes.set(topic, route);
    for (const broker of route.brokerDatas) {
      this.brokers.set(broker.brokerName, { ...broker.brokerAddrs });
    }
    return route;
  }

  /** Refreshes every cached topic plus `extraTopics`; failures are logged and the old route kept. */
  async refresh(extraTopics: Iterable<string> = []): Promise<void> {
    const topics = new Set([...this.routes.keys(), ...extraTopics]);
    await Promise.all(
      [...topics].map((topic) =>
        this.fetch(topic).catch((err: unknown) =>
          this.logger.warn({ topic, err: String(err) }, 'topic route refresh failed'),
        ),
      ),
    );
  }

  masterAddr(brokerName: string): string | undefined {
    return this.brokers.get(brokerName)?.[String(MASTER_ID)];
  }

  /** The master's address of `brokerName`, re-fetching `topic`'s route once if unknown. */
  async findMasterAddr(brokerName: string, topic: string): Promise<string> {
    let addr = this.masterAddr(brokerName);
    if (!addr) {
      await this.fetch(topic);
      addr = this.masterAddr(brokerName);
    }
    if (!addr) throw new Error(`The broker[${brokerName}] not exist`);
    return addr;
  }

  /** The master's address, else any slave's (for reads). */
  readAddr(brokerName: string): string | undefined {
    const addrs = this.brokers.get(brokerName);
    if (!addrs) return undefined;
    return addrs[String(MASTER_ID)] ?? Object.values(addrs)[0];
  }

  brokerNames(): string[] {
    return [...this.brokers.keys()];
  }

  /** Every known broker address (masters and slaves). */
  allAddrs(): string[] {
    return [...this.brokers.values()].flatMap((addrs) => Object.values(addrs));
  }

  masterAddrs(): string[] {
    return [...this.brokers.values()]
      .map((addrs) => addrs[String(MASTER_ID)])
      .filter((a): a is string => a !== undefined);
  }
}
