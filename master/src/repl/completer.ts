// Tab completion: command names first, then what each argument is (a task id, a worker id, a
// status, a command name, a DAG run id or name, a file for `dag submit` (a run id for `dag retry|rerun`), a join token id for
// `join-token revoke`, an action of `dead-letters`) and the options of the command.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TASK_STATUSES } from '../records/task.js';
import { COMMANDS, QUEUE_ACTIONS, type ArgKind, type Command } from './commands.js';
import type { IdResolver } from './id-resolver.js';
import { tokenize } from './tokenize.js';

export type CompleterCallback = (error: Error | null, result: [string[], string]) => void;

/** Options that take a value, so the value is not counted as a positional argument. */
const VALUE_OPTIONS = new Set(['--expires', '--uses', '--limit', '--cpu', '--memory', '--disk', '--gpu', '--priority', '--retries', '--timeout', '--name', '--env', '--label', '--runtime', '--image', '--backoff', '--backoff-multiplier', '--max-backoff', '--retry-on', '--start-deadline', '--deadline']);

/** Paths starting with `typed` (relative to `cwd`); folders end in "/" so Tab can go on. */
async function fileCandidates(cwd: string, typed: string): Promise<string[]> {
  const slash = typed.lastIndexOf('/');
  const dirPart = slash >= 0 ? typed.slice(0, slash + 1) : '';
  const base = typed.slice(dirPart.length);
  const dir = resolve(cwd, dirPart === '' ? '.' : dirPart);
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')))
      .map((e) => `${dirPart}${e.name}${e.isDirectory() ? '/' : ''}`)
      .sort()
      .slice(0, 200);
  } catch {
    return []; // no such folder, or not readable: nothing to offer
  }
}

async function candidates(ids: IdResolver, cwd: string, line: string): Promise<[string[], string]> {
  const tokens = tokenize(line);
  if (tokens.error) return [[], ''];
  const words = tokens.words;
  const current = tokens.endsInWord ? words[words.length - 1]! : '';
  const index = tokens.endsInWord ? words.length - 1 : words.length;
  const starting = (options: readonly string[]) => options.filter((o) => o.startsWith(current));
  if (index === 0) return [starting(COMMANDS.map((c) => c.name)).map((name) => `${name} `), current];

  const command: Command | undefined = COMMANDS.find((c) => c.name === words[0]);
  if (!command) return [[], current];
  const previous = words[index - 1];
  if (command.name === 'submit' && previous === '--runtime') return [starting(['docker', 'exec']), current];
  if (previous !== undefined && VALUE_OPTIONS.has(previous)) return [[], current];
  if (current.startsWith('-')) return [starting(command.flags ?? []), current];

  // which positional argument is being typed
  let position = 0;
  for (let i = 1; i < index; i += 1) {
    const word = words[i]!;
    if (VALUE_OPTIONS.has(word)) i += 1;
    else if (!word.startsWith('-')) position += 1;
  }
  const kind: ArgKind | undefined = command.args[position];
  switch (kind) {
    case 'command':
      return [starting(COMMANDS.map((c) => c.name)), current];
    case 'status':
      return [starting(TASK_STATUSES), current];
    case 'worker':
      return [ids.workerCandidates(current), current];
    case 'task':
      return [await ids.taskCandidates(current), current];
    case 'dag':
      // `dag <id>` or `dag submit <file>`
      return [[...starting(['submit', 'retry', 'rerun']).map((word) => `${word} `), ...(await ids.dagCandidates(current))], current];
    case 'gang':
      // `gang <id>` or `gang cancel <id>`
      return [[...(position === 0 ? starting(['cancel']).map((word) => `${word} `) : []), ...(await ids.gangCandidates(current))], current];
    case 'file':
      if (words[1] === 'retry' || words[1] === 'rerun') return [await ids.dagCandidates(current), current];
      return words[1] === 'submit' ? [await fileCandidates(cwd, current), current] : [[], current];
    case 'dagName':
      return [await ids.dagNameCandidates(current), current];
    case 'queueAction':
      return [starting(QUEUE_ACTIONS).map((word) => `${word} `), current];
    case 'queue':
      return [ids.queueCandidates(current), current];
    case 'joinToken':
      // `join-token create ...` or `join-token revoke <id>`
      if (position === 0) return [starting(['create', 'revoke']).map((word) => `${word} `), current];
      return words[1] === 'revoke' ? [await ids.joinTokenCandidates(current), current] : [[], current];
    case 'deadLetter':
      // `dead-letters ls|requeue|dismiss [<task>...]`
      if (position === 0) return [starting(['ls', 'requeue', 'dismiss']).map((word) => `${word} `), current];
      return words[1] === 'requeue' || words[1] === 'dismiss' ? [await ids.taskCandidates(current), current] : [[], current];
    default:
      return [[], current];
  }
}

/** A readline completer (the callback form, since task ids come from the store). */
export function createCompleter(ids: IdResolver, cwd: string): (line: string, callback: CompleterCallback) => void {
  return (line, callback) => {
    candidates(ids, cwd, line).then(
      (result) => callback(null, result),
      () => callback(null, [[], '']),
    );
  };
}
