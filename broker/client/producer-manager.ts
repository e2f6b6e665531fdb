import type { Connection } from '../../common/net/connection';
import type { ClientChannel } from './client-channel';

/**
 * Producer groups registered by heartbeats (RocketMQ ProducerManager): which connections
 * belong to a group, for connection lists and for transaction checks.
 */
export class ProducerManager {
  private readonly groups = new Map<string, Map<Connection, ClientChannel>>();

  register(group: string, channel: ClientChannel): void {
    let channels = this.groups.get(group);
    if (!channels) {
      channels = new Map();
      this.groups.set(group, channels);
    }
    channels.set(channel.connection, channel);
  }

  unregister(group: string, connection: Connection): void {
    const channels = this.groups.get(group);
    if (!channels) return;
    channels.delete(connection);
    if (channels.size === 0) this.groups.delete(group);
  }

  connectionClosed(connection: Connection): void {
    for (const group of [...this.groups.keys()]) this.unregister(group, connection);
  }

  /** Drops registrations silent for longer than `timeoutMs`. */
  scanNotActive(now: number, timeoutMs: number): void {
    for (const [group, channels] of [...this.groups]) {
      for (const channel of [...channels.values()]) {
        if (now - channel.lastUpdateTimestamp > timeoutMs) {
          this.unregister(group, channel.connection);
        }
      }
    }
  }

  channels(group: string): ClientChannel[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }
}
