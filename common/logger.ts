import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide pino logger: JSON lines on stdout. The level comes from `LOG_LEVEL`
 * (trace|debug|info|warn|error|fatal|silent), `info` by default; tests set `silent`.
 * Tools whose stdout is their result (the benchmarks) log to stderr instead.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  stream: 'stdout' | 'stderr' = 'stdout',
): Logger {
  const options = { name, level, base: { pid: process.pid, name } };
  return stream === 'stdout' ? pino(options) : pino(options, pino.destination(2));
}
