import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpEndpoint {
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTP side every process has: Prometheus metrics on `/metrics`, liveness on `/healthz`
 * (the event loop answers) and readiness on `/readyz` (the process says it can serve).
 */
export async function startHttpEndpoint(options: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => boolean;
}): Promise<HttpEndpoint> {
  const app = express();
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', options.registry.contentType);
    res.send(await options.registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.ready();
    res
      .status(ready ? 200 : 503)
      .type('text/plain')
      .send(ready ? 'ready\n' : 'not ready\n');
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
    s.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
