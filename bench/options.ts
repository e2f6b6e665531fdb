import { UsageError, type ParsedArgs } from '../cli/args';

/** `--key=N` as a number ≥ `min` (default 1), or `fallback` when absent. */
export function numberOption(args: ParsedArgs, key: string, fallback: number, min = 1): number {
  const text = args.long.get(key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    throw new UsageError(`--${key} must be a number ≥ ${min}, got "${text}"`);
  }
  return value;
}

/** `--key=a,b,c` as a list, or undefined when absent. */
export function listOption(args: ParsedArgs, key: string): string[] | undefined {
  return args.long.get(key)?.split(',').filter(Boolean);
}
