import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file';
import { parseProperties } from '../common/config';
import { storePaths, type StoreConfig } from './store/store-config';

/**
 * Broker settings changed at run time (UPDATE_BROKER_CONFIG) are kept in
 * `<storePathRootDir>/config/broker.properties` — the file name RocketMQ uses for its broker
 * config when started without `-c` — holding only the changed keys. RocketMQ rewrites the whole
 * `-c broker.conf` instead; we leave the operator's file (often a read-only ConfigMap) alone and
 * apply this file on top of it at start, under the command-line flags.
 */
export function brokerConfigUpdatesPath(config: StoreConfig): string {
  return join(storePaths(config).config, 'broker.properties');
}

/** The persisted updates (empty when there are none). Read once at start. */
export function readBrokerConfigUpdates(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  return parseProperties(text);
}

/** Writes the updates as a properties file, keys sorted, atomically. */
export function writeBrokerConfigUpdates(
  path: string,
  updates: ReadonlyMap<string, string>,
): Promise<void> {
  const lines = [...updates]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${escapeValue(value)}`);
  return writeFileAtomic(
    path,
    `# Broker settings changed at run time (UPDATE_BROKER_CONFIG)\n${lines.join('\n')}\n`,
  );
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
