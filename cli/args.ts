/**
 * Command-line arguments in the spirit of RocketMQ's tools: `-c file` for a config file,
 * mqadmin's one-letter options (`-n namesrvAddr`, `-t topic`, …), and `--key=value` for any
 * config key.
 */
export interface ParsedArgs {
  positionals: string[];
  /** `-x value` options, keyed by the letter. */
  short: Map<string, string>;
  /** `--key=value` (or `--key value`, or a bare `--flag` meaning "true"). */
  long: Map<string, string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], short: new Map(), long: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 2) parsed.long.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('-'))
        parsed.long.set(arg.slice(2), argv[++i]);
      else parsed.long.set(arg.slice(2), 'true');
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${arg} needs a value`);
      parsed.short.set(arg.slice(1), argv[++i]);
    } else {
      parsed.positionals.push(arg);
    }
  }
  return parsed;
}
