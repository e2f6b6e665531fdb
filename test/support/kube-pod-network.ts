import { freeBrokerPort } from '../broker/support';

/**
 * The pod network of the local kubelet, like a hostAliases table: every `pod DNS name:container
 * port` the operator renders (e.g. `demo-broker-0-1.demo-broker-0.rmq.svc:10911`) gets a loopback
 * port once and keeps it for the test's life, so a recreated pod answers on the same address.
 * Brokers get a port whose neighbours (fast port −2, HA port +1) are free too.
 */
export class PodNetwork {
  private readonly ports = new Map<string, number>();

  /** The loopback port behind `dnsName:containerPort`, allocated on first use. */
  async portFor(dnsName: string, containerPort: number): Promise<number> {
    const key = `${dnsName}:${containerPort}`;
    let port = this.ports.get(key);
    if (port === undefined) {
      port = await freeBrokerPort();
      while ([...this.ports.values()].some((p) => Math.abs(p - port!) <= 2)) {
        port = await freeBrokerPort();
      }
      this.ports.set(key, port);
    }
    return port;
  }

  /** `host:port` → `127.0.0.1:<local port>` for a known pod address, unchanged otherwise. */
  resolve = (addr: string): string => {
    const port = this.ports.get(addr);
    return port === undefined ? addr : `127.0.0.1:${port}`;
  };

  /** A `;`-separated address list (namesrvAddr), each resolved. */
  resolveList(list: string): string {
    return list
      .split(';')
      .filter(Boolean)
      .map((a) => this.resolve(a.trim()))
      .join(';');
  }
}
