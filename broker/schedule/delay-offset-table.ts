import { parseLenientJson } from '../../common/json';
import type { Logger } from '../../common/logger';
import { ConfigFile } from '../metadata/config-file';

/**
 * Delivery progress of the delay levels, `delayOffset.json` in RocketMQ's format:
 * `{"offsetTable":{<level>:<next SCHEDULE_TOPIC_XXXX queue offset>,…}}`, keyed by delay level
 * (1‥18), not queue id (broker-internals.md §1.9). A Java broker writes the keys unquoted;
 * both spellings are read, quoted keys are written.
 */
export class DelayOffsetTable {
  private readonly table = new Map<number, number>();
  private readonly file: ConfigFile<Map<number, number>>;
  private dirty = false;

  constructor(path: string, logger: Logger) {
    this.file = new ConfigFile(path, logger);
  }

  /** Replaces the in-memory table with the file's content (empty when there is no file). */
  async load(): Promise<void> {
    const loaded = await this.file.load(parseDelayOffsetFile);
    this.table.clear();
    for (const [level, offset] of loaded ?? []) this.table.set(level, offset);
  }

  /** The next queue offset to deliver of `level`, 0 when none was recorded. */
  get(level: number): number {
    return this.table.get(level) ?? 0;
  }

  set(level: number, offset: number): void {
    if (this.table.get(level) === offset) return;
    this.table.set(level, offset);
    this.dirty = true;
  }

  /** Writes the file if anything changed since the last write. */
  flushIfDirty(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    return this.file.persist(() => this.render());
  }

  private render(): string {
    const offsetTable = Object.fromEntries(
      [...this.table].sort(([a], [b]) => a - b).map(([level, offset]) => [String(level), offset]),
    );
    return JSON.stringify({ offsetTable }, null, 2);
  }
}

function parseDelayOffsetFile(text: string): Map<number, number> {
  const root = parseLenientJson(text) as { offsetTable?: unknown } | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new Error('delayOffset.json is not a JSON object');
  }
  const table = root.offsetTable ?? {};
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new Error('delayOffset.json: offsetTable is not an object');
  }
  const out = new Map<number, number>();
  for (const [key, offset] of Object.entries(table as Record<string, unknown>)) {
    const level = Number(key);
    if (!Number.isInteger(level) || level < 1 || typeof offset !== 'number' || offset < 0) {
      throw new Error(`delayOffset.json: bad entry ${key}: ${String(offset)}`);
    }
    out.set(level, offset);
  }
  return out;
}
