// What every command gets: the process (io), the printer, the config file, and the master it
// talks to. run-cli.ts builds it; tests can build their own.
import type { ApiClient } from './api-client.js';
import type { ConfigFile } from './config-file.js';
import type { CliIo } from './io.js';
import type { Output } from './output.js';
import type { Target } from './target.js';

export interface CommandContext {
  io: CliIo;
  out: Output;
  config: ConfigFile;
  /** the --context flag, when given */
  contextFlag: string | undefined;
  /** the master in effect (config + WHARF_* variables); throws a CliError when none is known */
  target(): Target;
  /** a client for the target with its token; throws a CliError when not logged in */
  client(): ApiClient;
}
