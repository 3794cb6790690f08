// The master's interactive console: a transport like http/ and grpc/. It reads commands from
// the given streams with node:readline (Tab completion, persistent history on a terminal),
// runs them one at a time against the domain services as the admin, and prints. It never
// stops the master by itself: only `exit` asks the caller to stop it; the end of input
// (Ctrl-D, or the end of piped stdin) leaves the REPL and the master keeps running.
import type { Readable, Writable } from 'node:stream';
import { createInterface, type Interface, type Key } from 'node:readline';
import { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { User } from '../records/user.js';
import { COMMANDS, findCommand, type Command, type ReplContext, type ReplServices } from './commands.js';
import { createCompleter } from './completer.js';
import { colourWanted, createStyle } from './format.js';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history.js';
import { IdResolver } from './id-resolver.js';
import type { ReplConsole } from './repl-console.js';
import { tokenize } from './tokenize.js';

export interface ReplOptions {
  services: ReplServices;
  /** the REPL acts as this admin (the configured admin account) */
  adminEmail: string;
  input: Readable & { isTTY?: boolean };
  output: Writable & { isTTY?: boolean; columns?: number };
  /** default: input and output are both terminals */
  terminal?: boolean;
  /** default: a terminal output and NO_COLOR unset */
  colour?: boolean;
  /** where history is kept (terminal mode only); absent = not kept */
  historyFile?: string;
  /** shares the terminal with log lines (see repl-console.ts) */
  console?: ReplConsole;
  logger?: Logger;
  /** where `download` saves by default and `dag submit` reads relative paths from */
  cwd?: string;
  /** the operator typed `exit`: the caller stops the master */
  onExit(): void;
}

export interface ReplHandle {
  /** resolves when the REPL has ended: 'exit' (typed), 'end' (input ended) or 'closed' */
  readonly closed: Promise<'exit' | 'end' | 'closed'>;
  /** ends the REPL without stopping anything (the caller is stopping the master) */
  close(): void;
}

export const PROMPT = 'wharf> ';

export async function startRepl(options: ReplOptions): Promise<ReplHandle> {
  const { services, input, output } = options;
  const terminal = options.terminal ?? Boolean(input.isTTY && output.isTTY);
  const style = createStyle(options.colour ?? colourWanted(output, process.env));
  const admin = await findAdmin(services, options.adminEmail);
  const ids = new IdResolver(services.tasks, services.registry, admin, services.dags, services.joinTokens, services.queues, services.gangs);
  const cwd = options.cwd ?? process.cwd();
  const historyFile = terminal ? options.historyFile : undefined;

  const rl: Interface = createInterface({
    input,
    output,
    terminal,
    prompt: style.enabled ? `${style.bold('wharf')}> ` : PROMPT,
    completer: createCompleter(ids, cwd),
    history: historyFile ? loadHistory(historyFile) : [],
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    tabSize: 4,
  });
  options.console?.attach(terminal ? rl : undefined);

  const pending: string[] = [];
  let wake: (() => void) | undefined;
  let inputEnded = false;
  let ending: 'exit' | 'closed' | undefined;
  let live: { controller: AbortController; anyKey: boolean; keyUsed: boolean } | undefined;

  const print = (text: string) => {
    if (output.writable) output.write(`${text}\n`);
  };
  const printError = (message: string) => print(style.red(`error: ${message}`));
  const showPrompt = () => {
    if (!terminal || inputEnded || ending) return;
    options.console?.setPromptShown(true);
    rl.prompt(true);
  };
  const clearTypedLine = () => {
    rl.write(null, { ctrl: true, name: 'e' } as Key);
    rl.write(null, { ctrl: true, name: 'u' } as Key);
  };

  rl.on('line', (line) => {
    options.console?.setPromptShown(false);
    pending.push(line);
    wake?.();
  });
  rl.on('close', () => {
    inputEnded = true;
    options.console?.setPromptShown(false);
    // Ctrl-D on a terminal also ends a live view; piped input that ends lets `logs -f` run
    // to the end of its task, as a script would expect
    if (terminal) live?.controller.abort();
    wake?.();
  });
  // nobody reads the output any more (a closed pipe): leave the REPL, keep the master
  output.on('error', (error: unknown) => {
    options.logger?.warn({ err: error }, 'the REPL output is gone; leaving the REPL');
    if (!ending) ending = 'closed';
    live?.controller.abort();
    rl.close();
  });
  if (historyFile) {
    rl.on('history', (history) => {
      try {
        saveHistory(historyFile, history);
      } catch (error: unknown) {
        options.logger?.warn({ err: error, historyFile }, 'could not save the REPL history');
      }
    });
  }
  rl.on('SIGINT', () => {
    if (live) {
      live.controller.abort();
      return;
    }
    if (rl.line.length > 0) {
      output.write('^C\n');
      clearTypedLine();
      return;
    }
    print(`\n${style.dim('(type exit to stop the master; Ctrl-D leaves the REPL and keeps the master running)')}`);
    showPrompt();
  });
  const onKeypress = () => {
    if (live?.anyKey) {
      live.keyUsed = true;
      live.controller.abort();
    }
  };
  if (terminal) input.on('keypress', onKeypress);

  const ctx: ReplContext = {
    services,
    admin,
    ids,
    style,
    terminal,
    print,
    write: (text) => {
      if (output.writable) output.write(text);
    },
    interruptible: ({ anyKey }) => {
      const controller = new AbortController();
      const phase = { controller, anyKey, keyUsed: false };
      live = phase;
      if (inputEnded && terminal) controller.abort();
      return {
        signal: controller.signal,
        release: () => {
          if (live === phase) live = undefined;
          // the key that ended a live view was also typed into the line: take it back out
          if (phase.keyUsed && terminal && !inputEnded) clearTypedLine();
        },
      };
    },
    cwd,
    exit: () => {
      ending = 'exit';
    },
    auditObject: (object) => {
      auditedObject = object;
    },
    now: () => Date.now(),
  };
  let auditedObject: string | undefined;

  const runLine = async (line: string): Promise<void> => {
    const tokens = tokenize(line);
    if (tokens.error) {
      printError(tokens.error);
      return;
    }
    const [name, ...args] = tokens.words;
    if (name === undefined) return;
    let command: Command | undefined;
    let outcome = 'ok';
    auditedObject = undefined;
    try {
      command = findCommand(name);
      await command.run(ctx, args);
    } catch (error: unknown) {
      outcome = error instanceof WharfError ? error.code : 'internal';
      if (error instanceof WharfError) {
        printError(error.message);
      } else {
        options.logger?.error({ err: error, line }, 'REPL command failed');
        printError(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      }
    } finally {
      // a command that changes something is recorded as the admin, from the console
      const action = command?.audit?.(args);
      if (action) {
        services.audit.record({
          userId: admin.id,
          userEmail: admin.email,
          address: 'console',
          action,
          object: auditedObject ?? (args.join(' ').slice(0, 300) || undefined),
          outcome,
          status: 0,
        });
      }
    }
  };

  const loop = async (): Promise<'exit' | 'end' | 'closed'> => {
    showPrompt();
    for (;;) {
      if (ending) break;
      const line = pending.shift();
      if (line === undefined) {
        if (inputEnded) break;
        await new Promise<void>((resolveWake) => (wake = resolveWake));
        wake = undefined;
        continue;
      }
      if (!terminal) print(`${PROMPT}${line}`);
      await runLine(line);
      if (pending.length === 0) showPrompt();
    }
    if (terminal) input.off('keypress', onKeypress);
    options.console?.attach(undefined);
    if (ending === 'exit') {
      print('stopping the master…');
      rl.close();
      options.onExit();
      return 'exit';
    }
    if (ending === 'closed') return 'closed';
    print(style.dim('left the REPL; the master keeps running (Ctrl-C or SIGTERM stops it)'));
    return 'end';
  };

  const closed = loop();
  return {
    closed,
    close: () => {
      if (!ending) ending = 'closed';
      live?.controller.abort();
      rl.close();
    },
  };
}

/** The admin account the REPL acts as. */
async function findAdmin(services: ReplServices, email: string): Promise<User> {
  const users = await services.auth.listUsers();
  const admin = users.find((u) => u.email === email.toLowerCase() && u.role === 'admin') ?? users.find((u) => u.role === 'admin');
  if (!admin) throw new WharfError('internal', `the REPL needs an admin account and ${email} is not one`);
  return admin;
}

/** Command names, for docs and tests. */
export const REPL_COMMANDS: readonly string[] = COMMANDS.map((c) => c.name);
