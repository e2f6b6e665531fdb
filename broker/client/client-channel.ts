import type { Connection } from '../../common/net/connection';
import type { ConnectionInfo } from '../../common/protocol/broker-bodies';

/** A client connection as the broker knows it from its heartbeats (ClientChannelInfo). */
export interface ClientChannel {
  connection: Connection;
  clientId: string;
  language: string;
  version: number;
  lastUpdateTimestamp: number;
}

export function connectionInfo(channel: ClientChannel): ConnectionInfo {
  return {
    clientAddr: channel.connection.remoteAddress,
    clientId: channel.clientId,
    language: channel.language,
    version: channel.version,
  };
}
