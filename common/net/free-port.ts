/**
 * Loopback ports for servers that tests, benchmarks and the local cluster start. They are picked
 * at random below Linux's ephemeral range (32768 and up), where the kernel picks the local ports
 * of outgoing connections: a port the OS chose with `listen(0)` is ephemeral, and another
 * process's connection can take it between the check and the server's bind.
 */
import { createServer } from 'node:net';

const LOWEST = 10_000;
const HIGHEST = 32_000;

/** True if `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port `p` such that `p + offset` is free for every offset given. */
export async function freePortWith(offsets: readonly number[]): Promise<number> {
  for (;;) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    let free = true;
    for (const offset of offsets) {
      if (!(await isPortFree(port + offset))) {
        free = false;
        break;
      }
    }
    if (free) return port;
  }
}

/** One free port. */
export function freePort(): Promise<number> {
  return freePortWith([0]);
}

/** A broker's listenPort: it also listens on port − 2 (the VIP channel) and port + 1 (HA). */
export function freeBrokerPort(): Promise<number> {
  return freePortWith([0, -2, 1]);
}
