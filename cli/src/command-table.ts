// Every command of `wharf`, in the order `wharf --help` lists them, and the help for any of them.
import type { CommandSpec } from './command-spec.js';
import { AUTH_COMMANDS } from './commands/auth-commands.js';
import { DAG_COMMANDS } from './commands/dag-commands.js';
import { DEAD_LETTER_COMMANDS } from './commands/dead-letter-commands.js';
import { JOIN_TOKEN_COMMANDS } from './commands/join-token-commands.js';
import { metaCommands } from './commands/meta-commands.js';
import { RUN_COMMAND } from './commands/run-command.js';
import { TASK_COMMANDS } from './commands/task-commands.js';
import { QUEUE_COMMANDS } from './commands/queue-commands.js';
import { RETENTION_COMMANDS } from './commands/retention-commands.js';
import { TOKEN_COMMANDS } from './commands/token-commands.js';
import { WORKER_COMMANDS } from './commands/worker-commands.js';
import { UsageError } from './errors.js';
import { commandHelp, groupHelp, rootHelp, type Section } from './help.js';

/** Words that group commands, with what the group is for. */
export const GROUPS: ReadonlyMap<string, string> = new Map([
  ['dag', 'DAG runs: submit a DAG file, list runs, one run in detail, metrics, cancel'],
  ['dead-letters', 'tasks that failed with no retry left: list, re-queue, dismiss'],
  ['context', 'the saved masters (contexts): list, switch, delete'],
  ['token', 'API tokens for scripts and CI: create, list, revoke'],
  ['worker', 'one worker: remove it (admins)'],
  ['join-token', 'join tokens that let new workers join (admins): create, list, revoke'],
  ['queue', 'queues: list, one in detail with each user\'s fair share; create, change, delete (admins)'],
]);

export const SECTIONS: readonly Section[] = [
  { title: 'Tasks', commands: ['run', 'submit', 'ls', 'get', 'logs', 'cancel', 'files', 'cp'] },
  { title: 'Dead letters', commands: ['dead-letters ls', 'dead-letters requeue', 'dead-letters dismiss'] },
  { title: 'DAG runs', commands: ['dag run', 'dag ls', 'dag get', 'dag metrics', 'dag cancel', 'dag retry', 'dag rerun'] },
  { title: 'Workers', commands: ['workers', 'drain', 'activate', 'worker rm', 'join-token create', 'join-token ls', 'join-token revoke'] },
  { title: 'Queues', commands: ['queue ls', 'queue get', 'queue create', 'queue set', 'queue rm'] },
  { title: 'Storage', commands: ['usage', 'gc'] },
  { title: 'Access', commands: ['login', 'logout', 'whoami', 'context ls', 'context use', 'context rm', 'token create', 'token ls', 'token revoke'] },
  { title: 'Other', commands: ['completion', 'version', 'help'] },
];

/** The command named by the first words, and how many words its name takes. */
export function findCommand(words: readonly string[]): { command: CommandSpec; consumed: number } | { group: string } | undefined {
  const [first, second] = words;
  if (first === undefined) return undefined;
  if (GROUPS.has(first)) {
    const command = second === undefined ? undefined : COMMANDS.find((c) => c.name === `${first} ${second}`);
    return command ? { command, consumed: 2 } : { group: first };
  }
  const command = COMMANDS.find((c) => c.name === first);
  return command ? { command, consumed: 1 } : undefined;
}

/** Help for `wharf help WORDS...` (and --help). */
export function helpFor(words: readonly string[]): string {
  if (words.length === 0) return rootHelp(SECTIONS, COMMANDS, GROUPS);
  const found = findCommand(words);
  if (found === undefined) throw new UsageError(`no command "${words.join(' ')}" (wharf help lists them)`);
  if ('group' in found) {
    if (words.length > 1) throw new UsageError(`no command "${words.join(' ')}" (wharf ${found.group} --help lists them)`);
    return groupHelp(found.group, GROUPS.get(found.group) ?? '', COMMANDS);
  }
  return commandHelp(found.command);
}

export const COMMANDS: readonly CommandSpec[] = [
  RUN_COMMAND,
  ...TASK_COMMANDS,
  ...DAG_COMMANDS,
  ...DEAD_LETTER_COMMANDS,
  ...WORKER_COMMANDS,
  ...QUEUE_COMMANDS,
  ...RETENTION_COMMANDS,
  ...AUTH_COMMANDS,
  ...TOKEN_COMMANDS,
  ...JOIN_TOKEN_COMMANDS,
  ...metaCommands(() => COMMANDS, helpFor),
];
