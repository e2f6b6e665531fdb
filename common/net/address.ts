/** `::ffff:10.0.0.5` → `10.0.0.5`: RocketMQ addresses are IPv4 `ip:port` strings. */
export function normalizeRemoteAddress(ip: string | undefined, port: number | undefined): string {
  const host = ip?.startsWith('::ffff:') ? ip.slice(7) : ip === '::1' ? '127.0.0.1' : (ip ?? '');
  return `${host}:${port ?? 0}`;
}

/** Splits `host:port`; throws on anything else. */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`invalid address "${address}", expected host:port`);
  }
  return { host: address.slice(0, i), port };
}
