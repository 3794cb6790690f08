// How a command is described: one table drives parsing, `--help`, and shell completion, so the
// three can never disagree.
import type { CommandContext } from './command-context.js';

/** What a value or a positional argument is, for shell completion. */
export type CompletionKind =
  | 'task'
  | 'worker'
  | 'dag'
  | 'dagName'
  | 'token'
  | 'joinToken'
  | 'queue'
  | 'context'
  | 'status'
  | 'output'
  | 'runtime'
  | 'shell'
  | 'command'
  | 'file'
  | 'none';

export interface OptionSpec {
  /** the long name, without dashes */
  name: string;
  /** a one-letter alias, without the dash */
  short?: string;
  /** the placeholder of its value (`N`, `K=V`); absent for a switch */
  value?: string;
  /** may be given several times (values collected in order) */
  multiple?: boolean;
  help: string;
  complete?: CompletionKind;
}

export type OptionValue = string | boolean | string[] | undefined;

export interface ParsedArgs {
  /** words that are not options, in order (for `run`: the image and the command's words) */
  positionals: string[];
  /** the words after `--` (not parsed as options) */
  rest: string[];
  values: Record<string, OptionValue>;
}

export interface CommandSpec {
  /** the words that name it: "ls", "dag run", "token create" */
  name: string;
  /** the usage line after `wharf ` */
  usage: string;
  summary: string;
  /** paragraphs shown by `--help` after the usage */
  description?: string;
  examples?: string[];
  options: OptionSpec[];
  /** the kinds of its positional arguments, for completion (the last one repeats when `variadic`) */
  args: CompletionKind[];
  variadic?: boolean;
  /** leave it out of `wharf --help` and completion (internal helpers) */
  hidden?: boolean;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number | void> | number | void;
}

/** A word that groups commands: `dag`, `token`, `context`. */
export interface CommandGroup {
  name: string;
  summary: string;
}
