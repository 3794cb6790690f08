// The option parser: `--name value`, `--name=value`, `-n value`, switches, repeatable options,
// and `--` after which every word is an argument. Options may come anywhere among the
// arguments, as in the master's REPL. Only the syntax is checked here; what a value means is
// for the command (and the API) to judge.
import type { OptionSpec, OptionValue, ParsedArgs } from './command-spec.js';
import { UsageError } from './errors.js';

function findOption(options: readonly OptionSpec[], word: string): OptionSpec | undefined {
  if (word.startsWith('--')) return options.find((o) => o.name === word.slice(2));
  return options.find((o) => o.short !== undefined && o.short === word.slice(1));
}

/** Parses the words after the command's name. Throws UsageError (for `command`) on bad syntax. */
export function parseArgs(command: string, options: readonly OptionSpec[], words: readonly string[]): ParsedArgs {
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i]!;
    if (word === '--') {
      rest = words.slice(i + 1);
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word);
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq >= 0 ? word.slice(0, eq) : word;
    const option = findOption(options, flag);
    if (!option) {
      const known = options.map((o) => `--${o.name}`).join(' ');
      throw new UsageError(`unknown option ${flag}${known ? ` (options: ${known})` : ''}`, command);
    }
    let value: string | boolean;
    if (option.value === undefined) {
      if (eq >= 0) throw new UsageError(`--${option.name} takes no value`, command);
      value = true;
    } else if (eq >= 0) {
      value = word.slice(eq + 1);
    } else {
      const next = words[i + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value (${option.value})`, command);
      value = next;
      i += 1;
    }
    if (option.multiple) {
      const list = (values[option.name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[option.name] = list;
    } else {
      if (option.value !== undefined && values[option.name] !== undefined) throw new UsageError(`--${option.name} is given twice`, command);
      values[option.name] = value;
    }
  }
  return { positionals, rest, values };
}

/** Reads an option as a whole number within bounds. */
export function intOption(command: string, args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const value = args.values[name];
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max} (got "${text}")`, command);
  }
  return Number(text);
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : [];
}

export function flagOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Checks the number of positional arguments. */
export function expectArgs(command: string, args: ParsedArgs, min: number, max: number, what: string): string[] {
  const words = [...args.positionals, ...args.rest];
  if (words.length < min) throw new UsageError(`needs ${what}`, command);
  if (words.length > max) throw new UsageError(`unexpected argument "${words[max]}"`, command);
  return words;
}
