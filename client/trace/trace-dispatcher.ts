import type { Logger } from '../../common/logger';
import type { Message } from '../message';
import { encodeTraceRecord, TRACE_TOPIC, type TraceRecord } from './trace-data';

/** Options a producer or push consumer takes to write message traces. */
export interface TraceOptions {
  /** Write a trace record for every send or consumption (Java enableMsgTrace); default false. */
  enableMsgTrace?: boolean;
  /** The trace topic (Java customizedTraceTopic); default RMQ_SYS_TRACE_TOPIC. */
  customizedTraceTopic?: string;
  /** How often buffered records are written; default 5000 ms, as Java's dispatcher. */
  traceFlushIntervalMs?: number;
}

/** What writes the trace messages: an internal producer of its own group. */
export interface TraceSender {
  start(): Promise<void>;
  send(msg: Message): Promise<unknown>;
  shutdown(): Promise<void>;
}

/** Body bytes per trace message (Java: maxMsgSize 128 000). */
const MAX_BODY_BYTES = 128_000;
/** KEYS characters per trace message, well below the 32 767-byte properties limit. */
const MAX_KEYS_CHARS = 16_000;
/** Records kept while the trace topic cannot be written; newer ones are dropped and logged. */
const MAX_PENDING = 20_000;

interface Pending {
  text: string;
  keys: string[];
}

/**
 * Buffers trace records and writes them in batches (Java AsyncTraceDispatcher): every flush
 * interval, the buffered records go out as trace messages of at most 128 000 bytes whose KEYS
 * are the traced msgIds and user keys, so the broker's index finds a message's traces by id.
 * Tracing never blocks or fails the traced send or consumption: a failed write is logged.
 */
export class TraceDispatcher {
  private pending: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly sender: TraceSender,
    readonly topic: string,
    private readonly flushIntervalMs: number,
    private readonly logger: Logger,
  ) {}

  static topicOf(options: TraceOptions): string {
    return options.customizedTraceTopic ?? TRACE_TOPIC;
  }

  async start(): Promise<void> {
    await this.sender.start();
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes what is buffered, then stops the internal producer. */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await this.sender.shutdown();
  }

  append(record: TraceRecord, keys: readonly (string | undefined)[]): void {
    if (this.pending.length >= MAX_PENDING) {
      if (this.dropped++ === 0) this.logger.warn({ topic: this.topic }, 'trace buffer full');
      return;
    }
    const words = keys.flatMap((k) => (k ? k.split(' ') : [])).filter((k) => k !== 'null');
    this.pending.push({ text: encodeTraceRecord(record), keys: words });
  }

  /** Sends the buffered records; runs after any flush still in progress. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.sendPending());
    return this.flushing;
  }

  private async sendPending(): Promise<void> {
    const records = this.pending;
    this.pending = [];
    if (this.dropped > 0) {
      this.logger.warn({ topic: this.topic, dropped: this.dropped }, 'trace records dropped');
      this.dropped = 0;
    }
    const sends: Promise<unknown>[] = [];
    let body = '';
    let bodyBytes = 0;
    let keys = new Set<string>();
    let keyChars = 0;
    const emit = () => {
      if (body === '') return;
      const msg: Message = { topic: this.topic, body, keys: [...keys] };
      sends.push(
        this.sender
          .send(msg)
          .catch((err: unknown) =>
            this.logger.warn({ topic: this.topic, err: String(err) }, 'trace message not sent'),
          ),
      );
      body = '';
      bodyBytes = 0;
      keys = new Set();
      keyChars = 0;
    };
    for (const record of records) {
      const newKeyChars = record.keys.reduce((n, k) => n + (keys.has(k) ? 0 : k.length + 1), 0);
      const bytes = Buffer.byteLength(record.text);
      if (bodyBytes + bytes > MAX_BODY_BYTES || keyChars + newKeyChars > MAX_KEYS_CHARS) emit();
      body += record.text;
      bodyBytes += bytes;
      for (const k of record.keys) {
        if (!keys.has(k)) keyChars += k.length + 1;
        keys.add(k);
      }
    }
    emit();
    await Promise.all(sends);
  }
}
