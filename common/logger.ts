import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide pino logger: JSON lines on stdout. The level comes from `LOG_LEVEL`
 * (trace|debug|info|warn|error|fatal|silent), `info` by default; tests set `silent`.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid, name } });
}
