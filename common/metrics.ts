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
  /**
   * Counts one request in `requests`. The count is kept in a plain map and folded into the
   * counter when it is read: prom-client hashes the label set on every `inc`, a measurable
   * share of a small request's cost.
   */
  countRequest(code: string): void;
  connections: Counter<'event'>;
}

export function createRemotingMetrics(registry: Registry): RemotingMetrics {
  const uncounted = new Map<string, number>();
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
      collect() {
        for (const [code, n] of uncounted) this.inc({ code }, n);
        uncounted.clear();
      },
    }),
    countRequest(code) {
      uncounted.set(code, (uncounted.get(code) ?? 0) + 1);
    },
    connections: new Counter({
      name: 'rmqts_remoting_connections_total',
      help: 'Connections opened and closed',
      labelNames: ['event'],
      registers: [registry],
    }),
  };
}
