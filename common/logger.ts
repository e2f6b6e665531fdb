import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import SonicBoom from 'sonic-boom';

export type { Logger };

/** How long the exit-time flush keeps retrying a reader that takes nothing (EAGAIN). */
const EXIT_FLUSH_PATIENCE_MS = 2000;
/** Log bytes held while the reader is slower than the logging; lines beyond it are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Where log lines go: a file descriptor written asynchronously through sonic-boom, as pino's
 * default destination does, flushed synchronously when the process exits. A write error
 * (EPIPE when the reader of a pipe is gone, EBADF, EIO…) stops the logging instead of blocking
 * or crashing the process: later lines are dropped, and stderr says so once.
 *
 * Why not pino's own destination: its sonic-boom 4 retries every failed write at exit forever
 * (flushSync sleeps 100 ms and tries again, whatever the error), so a process logging to a pipe
 * nobody reads any more never exits after SIGTERM. sonic-boom 5 throws such errors instead.
 */
class LogOutput implements DestinationStream {
  private readonly fd: number;
  private readonly boom: SonicBoom;
  private failed = false;
  private droppedSome = false;
  /** Set when the process exits: from then on EAGAIN is retried only until this time. */
  private exitDeadline = Number.POSITIVE_INFINITY;

  /**
   * `stdio` is process.stdout or process.stderr: opening it makes a pipe or socket descriptor
   * non-blocking (libuv does), as it was with pino's default destination. A reader that stops
   * reading then gives EAGAIN, retried later, instead of a write that holds a thread for good.
   */
  constructor(stdio: typeof process.stdout | typeof process.stderr) {
    this.fd = stdio.fd;
    this.boom = new SonicBoom({
      fd: this.fd,
      maxLength: MAX_BUFFERED_BYTES,
      retryEAGAIN: () => Date.now() < this.exitDeadline,
    });
    this.boom.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    this.boom.on('drop', () => this.noteDropped());
    process.once('exit', () => this.flushAtExit());
  }

  write(line: string): void {
    if (!this.failed) this.boom.write(line);
  }

  private flushAtExit(): void {
    if (this.failed) return;
    this.exitDeadline = Date.now() + EXIT_FLUSH_PATIENCE_MS;
    try {
      this.boom.flushSync();
    } catch (err) {
      this.fail(err as NodeJS.ErrnoException);
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    tellStderr(
      `log output (fd ${this.fd}) failed: ${err.code ?? err.message}; log lines are dropped`,
    );
  }

  private noteDropped(): void {
    if (this.droppedSome) return;
    this.droppedSome = true;
    tellStderr(
      `log output (fd ${this.fd}) is not being read fast enough; some log lines are dropped`,
    );
  }
}

/** Best effort: stderr may be a broken pipe too, and a notice must never throw. */
function tellStderr(notice: string): void {
  try {
    writeSync(2, `rocketmq-ts: ${notice}\n`);
  } catch {
    // Nowhere left to say it.
  }
}

/** One output per descriptor for the whole process: one buffer, one exit-time flush. */
const outputs = new Map<'stdout' | 'stderr', LogOutput>();

function logOutput(stream: 'stdout' | 'stderr'): LogOutput {
  let output = outputs.get(stream);
  if (output === undefined) {
    output = new LogOutput(process[stream]);
    outputs.set(stream, output);
  }
  return output;
}

/**
 * A pino logger: JSON lines on stdout. The level comes from `LOG_LEVEL`
 * (trace|debug|info|warn|error|fatal|silent), `info` by default; tests set `silent`.
 * Tools whose stdout is their result (the benchmarks) log to stderr instead.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  stream: 'stdout' | 'stderr' = 'stdout',
): Logger {
  const options = { name, level, base: { pid: process.pid, name } };
  return pino(options, logOutput(stream));
}
