import { readFileSync } from 'node:fs';

/**
 * Configuration in RocketMQ's style: a Java properties file (`namesrv.conf`, `broker.conf`)
 * whose keys are the Java field names, overridden by environment variables and then by
 * command-line flags. Every key has a typed default; values are coerced to the default's type
 * and unknown keys are reported, never fatal (RocketMQ ignores them too).
 */
export type ConfigValue = string | number | boolean;
export type ConfigShape = Record<string, ConfigValue>;

export class ConfigError extends Error {}

/** Parses Java `.properties` text: `k=v`, `k: v`, `k v`, `#`/`!` comments, `\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    }
    const match = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/.exec(line);
    if (!match) continue;
    out.set(unescapeProperty(match[1]), unescapeProperty(match[2].trimEnd()));
  }
  return out;
}

function endsWithContinuation(line: string): boolean {
  let slashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) slashes++;
  return slashes % 2 === 1;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, esc: string) => {
    if (esc.length === 5) return String.fromCharCode(parseInt(esc.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[esc] ?? esc;
  });
}

/** `listenPort` → `LISTEN_PORT`, the environment spelling of a config key. */
export function envNameOf(key: string, prefix: string): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function coerce(key: string, raw: string, like: ConfigValue): ConfigValue {
  if (typeof like === 'number') {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new ConfigError(`config key ${key}: expected a number, got "${raw}"`);
    }
    return n;
  }
  if (typeof like === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (v !== 'true' && v !== 'false') {
      throw new ConfigError(`config key ${key}: expected true or false, got "${raw}"`);
    }
    return v === 'true';
  }
  return raw;
}

export interface ConfigSources {
  /** Path of a properties file (`-c broker.conf`). */
  file?: string;
  /** Environment (usually `process.env`) and the prefix of the variables it may set. */
  env?: NodeJS.ProcessEnv;
  envPrefix?: string;
  /** Already-parsed `--key=value` flags; they win over everything. */
  flags?: Map<string, string>;
}

export interface LoadedConfig<T extends ConfigShape> {
  config: T;
  /** Keys found in the file or flags that this process does not know. */
  unknownKeys: string[];
}

export function loadConfig<T extends ConfigShape>(
  defaults: T,
  sources: ConfigSources,
): LoadedConfig<T> {
  const config: ConfigShape = { ...defaults };
  const unknownKeys: string[] = [];
  const apply = (entries: Iterable<[string, string]>) => {
    for (const [key, raw] of entries) {
      if (!(key in defaults)) {
        unknownKeys.push(key);
        continue;
      }
      config[key] = coerce(key, raw, defaults[key]);
    }
  };
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${sources.file}: ${(err as Error).message}`);
    }
    apply(parseProperties(text));
  }
  if (sources.env) {
    const prefix = sources.envPrefix ?? 'RMQ_';
    const fromEnv: [string, string][] = [];
    for (const key of Object.keys(defaults)) {
      const value = sources.env[envNameOf(key, prefix)];
      if (value !== undefined) fromEnv.push([key, value]);
    }
    apply(fromEnv);
  }
  if (sources.flags) apply(sources.flags);
  return { config: config as T, unknownKeys };
}
