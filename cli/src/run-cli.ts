// The CLI's composition root: global options, the command, its options, the context it runs in,
// and the one mapping from failures to exit statuses (errors.ts): usage 2, API/network/config 1,
// interrupted 130, or what the command answers (`wharf run`: the task's exit code).
import { ApiClient } from './api-client.js';
import type { CommandContext } from './command-context.js';
import type { OptionSpec, ParsedArgs } from './command-spec.js';
import { COMMANDS, findCommand, helpFor } from './command-table.js';
import { ConfigFile, configPath } from './config-file.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Interrupted, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { Output } from './output.js';
import { parseArgs } from './parse-args.js';
import { resolveTarget, type Target } from './target.js';
import { CLI_VERSION } from './version.js';

const CONTEXT_OPTION: OptionSpec = { name: 'context', value: 'NAME', help: '' };

function suggestion(word: string): string {
  const names = [...new Set(COMMANDS.filter((c) => !c.hidden).map((c) => c.name.split(' ')[0]!))];
  const close = names.filter((n) => n.startsWith(word.slice(0, 2)) || word.startsWith(n));
  return close.length > 0 ? ` (did you mean ${close.join(', ')}?)` : '';
}

function buildContext(io: CliIo, out: Output, contextFlag: string | undefined): CommandContext {
  const config = new ConfigFile(configPath(io.env, io.homedir));
  let target: Target | undefined;
  let client: ApiClient | undefined;
  const ctx: CommandContext = {
    io,
    out,
    config,
    contextFlag,
    target() {
      target ??= resolveTarget(config.load(), io.env, contextFlag);
      if (!target) throw new CliError('not_logged_in', 'which master? log in first: wharf login http://MASTER:8080 (or set WHARF_URL and WHARF_TOKEN)');
      return target;
    },
    client() {
      const where = ctx.target();
      if (!where.token) throw new CliError('not_logged_in', `not logged in to ${where.server}: wharf login ${where.server}`);
      client ??= new ApiClient(where);
      return client;
    },
  };
  return ctx;
}

function report(error: unknown, io: CliIo, out: Output, command: string | undefined): number {
  const s = out.errStyle;
  if (error instanceof UsageError) {
    const where = error.command ? `wharf ${error.command}` : 'wharf';
    io.stderr.write(`${where}: ${error.message}\n${s.dim(`Run '${where} --help' for usage.`)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof Interrupted) return EXIT_INTERRUPTED;
  if (error instanceof CliError) {
    io.stderr.write(`${s.red('wharf:')} ${error.message} ${s.dim(`[${error.code}]`)}\n`);
    if (error.code === 'unauthenticated' && error.status === 401 && command !== 'login') {
      io.stderr.write(s.dim(io.env.WHARF_TOKEN ? 'hint: the master refused WHARF_TOKEN\n' : 'hint: log in again (wharf login)\n'));
    }
    return EXIT_ERROR;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`wharf: unexpected error: ${message}\n`);
  if (io.env.WHARF_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return EXIT_ERROR;
}

/** Runs one command line (the words after `wharf`); answers the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = new Output(io);
  let commandName: string | undefined;
  try {
    let contextFlag: string | undefined;
    let i = 0;
    for (; i < argv.length; i += 1) {
      const word = argv[i]!;
      if (word === '--context' || word.startsWith('--context=')) {
        contextFlag = word === '--context' ? argv[++i] : word.slice('--context='.length);
        if (!contextFlag) throw new UsageError('--context needs a context name');
      } else if (word === '--version') {
        out.line(`wharf ${CLI_VERSION} (node ${process.version})`);
        return EXIT_OK;
      } else if (word === '--help' || word === '-h') {
        io.stdout.write(helpFor([]));
        return EXIT_OK;
      } else if (word.startsWith('-')) {
        throw new UsageError(`unknown option ${word} before the command (global options: --context NAME, --help, --version)`);
      } else break;
    }
    const words = argv.slice(i);
    if (words.length === 0) {
      io.stdout.write(helpFor([]));
      return EXIT_OK;
    }
    const found = findCommand(words);
    if (found === undefined) throw new UsageError(`unknown command "${words[0]}"${suggestion(words[0]!)}`);
    if ('group' in found) {
      const next = words[1];
      if (next === undefined || next === '--help' || next === '-h' || next === 'help') {
        io.stdout.write(helpFor([found.group]));
        return EXIT_OK;
      }
      throw new UsageError(`unknown command "${found.group} ${next}" (wharf ${found.group} --help lists them)`);
    }
    const { command, consumed } = found;
    commandName = command.name;
    const rest = words.slice(consumed);
    let args: ParsedArgs;
    if (command.name === '__complete') {
      // the words being completed, verbatim (options included)
      args = { positionals: [...rest], rest: [], values: {} };
    } else {
      const dashDash = rest.indexOf('--');
      const optionWords = dashDash < 0 ? rest : rest.slice(0, dashDash);
      if (optionWords.includes('--help') || optionWords.includes('-h')) {
        io.stdout.write(helpFor(command.name.split(' ')));
        return EXIT_OK;
      }
      args = parseArgs(command.name, [...command.options, CONTEXT_OPTION], rest);
      const flag = args.values.context;
      if (typeof flag === 'string') contextFlag = flag;
    }
    const code = await command.run(buildContext(io, out, contextFlag), args);
    return code ?? EXIT_OK;
  } catch (error: unknown) {
    return report(error, io, out, commandName);
  }
}
