import type { AdminClient } from '../client/admin-client';
import type { ParsedArgs } from './args';

/** What an admin verb gets: its arguments and a connected admin client. */
export interface AdminContext {
  args: ParsedArgs;
  admin: AdminClient;
  /** The value of `-<letter>`; a usage error naming `<name>` when it is missing. */
  option(letter: string, name: string): string;
  /** The value of `-<letter>`, or undefined. */
  optional(letter: string): string | undefined;
}

export interface AdminCommand {
  usage: string;
  run(ctx: AdminContext): Promise<string>;
}
