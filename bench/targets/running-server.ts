import { processTreeRss, type ServerProcess } from '../system/server-process';
import type { Endpoint, RunningServer } from './target';

/** A RunningServer backed by one server process (and whatever it forks). */
export function runningServer(
  server: ServerProcess,
  endpoint: Endpoint,
  durabilityNote: string,
  stopExtra: () => Promise<void> = async () => {},
): RunningServer {
  return {
    endpoint,
    durabilityNote,
    rss: () => processTreeRss(server.pid),
    async stop() {
      await server.stop();
      await stopExtra();
    },
  };
}
