import { readFileWithBackup, writeFileAtomic } from '../common/atomic-file';
import type { Logger } from '../common/logger';
import { parseLenientJson } from '../common/json';

/**
 * The name server's only persistent state: namespace → key → value, saved to `kvConfigPath`
 * as `{"configTable":{…}}` after every change (§7.5).
 */
export class KVConfigManager {
  private readonly table = new Map<string, Map<string, string>>();
  private persisting: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<void> {
    const parsed = await readFileWithBackup(
      this.path,
      (text) => parseLenientJson(text) as { configTable?: Record<string, Record<string, unknown>> },
      (reason) => this.logger.warn({ reason }, 'kv config file unusable, trying backup'),
    );
    for (const [ns, entries] of Object.entries(parsed?.configTable ?? {})) {
      const map = new Map<string, string>();
      for (const [k, v] of Object.entries(entries ?? {})) map.set(k, String(v));
      this.table.set(ns, map);
    }
    this.logger.info({ path: this.path, namespaces: this.table.size }, 'kv config loaded');
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  list(namespace: string): Record<string, string> | undefined {
    const ns = this.table.get(namespace);
    return ns ? Object.fromEntries(ns) : undefined;
  }

  put(namespace: string, key: string, value: string): Promise<void> {
    let ns = this.table.get(namespace);
    if (!ns) this.table.set(namespace, (ns = new Map()));
    ns.set(key, value);
    return this.persist();
  }

  delete(namespace: string, key: string): Promise<void> {
    const ns = this.table.get(namespace);
    if (!ns?.delete(key)) return Promise.resolve();
    if (ns.size === 0) this.table.delete(namespace);
    return this.persist();
  }

  /** Writes are chained so that concurrent changes reach the file in order. */
  private persist(): Promise<void> {
    const snapshot: Record<string, Record<string, string>> = {};
    for (const [ns, entries] of this.table) snapshot[ns] = Object.fromEntries(entries);
    const data = JSON.stringify({ configTable: snapshot }, null, 2);
    this.persisting = this.persisting
      .catch(() => undefined)
      .then(() => writeFileAtomic(this.path, data));
    return this.persisting;
  }
}
