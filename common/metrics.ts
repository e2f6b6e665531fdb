import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * Each process owns one prom-client registry with the Node.js default metrics, so tests can
 * run several servers in one process without metric-name collisions.
 */
export function createRegistry(processName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The transport's metrics, shared by every remoting server in a process. */
export interface RemotingMetrics {
  badFrames: Counter<'reason'>;
  requests: Counter<'code'>;
  connections: Counter<'event'>;
}

export function createRemotingMetrics(registry: Registry): RemotingMetrics {
  return {
    badFrames: new Counter({
      name: 'rmqts_remoting_bad_frames_total',
      help: 'Frames or commands rejected as malformed, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'rmqts_remoting_requests_total',
      help: 'Requests received, by request code',
      labelNames: ['code'],
      registers: [registry],
    }),
    connections: new Counter({
      name: 'rmqts_remoting_connections_total',
      help: 'Connections opened and closed',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}
