import { join } from 'node:path';
import { readFileWithBackup, writeFileAtomic } from '../../common/atomic-file';
import type { Logger } from '../../common/logger';

/** The broker's metadata files under `<storePathRootDir>/config` (broker-internals.md §1.9). */
export function metadataPaths(configDir: string) {
  return {
    topics: join(configDir, 'topics.json'),
    subscriptionGroup: join(configDir, 'subscriptionGroup.json'),
    consumerOffset: join(configDir, 'consumerOffset.json'),
    delayOffset: join(configDir, 'delayOffset.json'),
  };
}

export class ConfigFileError extends Error {}

/**
 * One JSON metadata file, RocketMQ's ConfigManager: read at start (falling back to `.bak`), and
 * written atomically (temp file, fsync, rename). Writes never overlap: a persist requested
 * while one is running runs once more after it with the newest content.
 */
export class ConfigFile<T> {
  private writing: Promise<void> | undefined;
  private again = false;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /**
   * The parsed content; undefined when neither the file nor its backup exists. When one exists
   * but none parses, this throws: starting empty would silently drop topics or offsets.
   */
  async load(parse: (text: string) => T): Promise<T | undefined> {
    const problems: string[] = [];
    const value = await readFileWithBackup(this.path, parse, (reason) => {
      problems.push(reason);
      this.logger.warn({ file: this.path, reason }, 'config file unusable, trying its backup');
    });
    if (value !== undefined) return value;
    if (problems.length > 0) {
      throw new ConfigFileError(`cannot load ${this.path}: ${problems.join('; ')}`);
    }
    return undefined;
  }

  /** Writes `render()` (called when the write starts, so it sees the newest state). */
  persist(render: () => string): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await writeFileAtomic(this.path, render());
      } while (this.again);
    };
    this.writing = run().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }
}
