// `submit <image> [command...] [--cpu N --memory 512Mi ...]` into the body REST takes. Only the
// argument syntax is checked here (a flag's value is present, a number is a number); every rule
// about the task itself is left to parseTaskInput, so the REPL and REST answer alike.
import { parseDurationMs } from '../config/durations.js';
import { WharfError } from '../errors.js';

type FlagKind = 'text' | 'int' | 'duration' | 'pair' | 'list' | 'switch';

/** flag -> how its value is read */
export const SUBMIT_FLAGS: Readonly<Record<string, FlagKind>> = {
  cpu: 'text',
  memory: 'text',
  disk: 'text',
  gpu: 'int',
  priority: 'int',
  retries: 'int',
  timeout: 'duration',
  name: 'text',
  env: 'pair',
  label: 'pair',
  runtime: 'text',
  network: 'text',
  user: 'text',
  'read-only': 'switch',
  'cap-add': 'list',
  pull: 'text',
  backoff: 'duration',
  'backoff-multiplier': 'text',
  'max-backoff': 'duration',
  'retry-on': 'list',
  'start-deadline': 'text',
  deadline: 'text',
  queue: 'text',
  worker: 'text',
};

export const SUBMIT_USAGE =
  'submit <image> [command...] [--cpu N] [--memory 512Mi] [--disk 1Gi] [--gpu N] [--priority N] [--retries N] ' +
  '[--timeout S] [--name X] [--env K=V]... [--label K=V]... [--runtime docker|exec] [--network default|none|host] ' +
  '[--user UID[:GID]] [--read-only] [--cap-add CAP]... [--pull IfNotPresent|Always|Never] [--queue NAME] [--worker ID (pin)] ' +
  '[--backoff S] [--backoff-multiplier X] [--max-backoff S] [--retry-on EXIT|OUTCOME]... [--start-deadline 10m|ISO] [--deadline 2h|ISO]';

const usageError = (message: string) => new WharfError('validation_failed', message);

/**
 * Reads the words after `submit`. Flags may come anywhere; `--` ends them (what follows is all
 * command, even words that start with --). With the docker runtime (the default) the first
 * other word is the image and the rest the command (argv, not a shell line: use `sh -c '...'`
 * for one); with another runtime every other word is the command.
 */
export function parseSubmitArgs(words: readonly string[]): Record<string, unknown> {
  const positional: string[] = [];
  const single = new Map<string, string>();
  const pairs: Record<'env' | 'label', Record<string, string>> = { env: {}, label: {} };
  const lists: Record<string, string[]> = {};
  let i = 0;
  for (; i < words.length; i += 1) {
    const word = words[i]!;
    if (word === '--') {
      i += 1;
      break;
    }
    if (!word.startsWith('--') || word.length === 2) {
      positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const flag = word.slice(2, eq < 0 ? undefined : eq);
    const kind = SUBMIT_FLAGS[flag];
    if (!kind) {
      throw usageError(`submit: unknown option --${flag} (options: ${Object.keys(SUBMIT_FLAGS).map((f) => `--${f}`).join(' ')}; put the command after -- to pass options to it)`);
    }
    if (kind === 'switch') {
      if (eq >= 0) throw usageError(`submit: --${flag} takes no value`);
      single.set(flag, 'true');
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else {
      value = words[i + 1];
      i += 1;
    }
    if (value === undefined) throw usageError(`submit: --${flag} needs a value`);
    if (kind === 'pair') {
      const at = value.indexOf('=');
      if (at <= 0) throw usageError(`submit: --${flag} takes KEY=VALUE (got "${value}")`);
      const key = value.slice(0, at);
      const target = pairs[flag as 'env' | 'label'];
      if (key in target) throw usageError(`submit: --${flag} ${key} is given twice`);
      target[key] = value.slice(at + 1);
      continue;
    }
    if (kind === 'list') {
      (lists[flag] ??= []).push(value);
      continue;
    }
    if (single.has(flag)) throw usageError(`submit: --${flag} is given twice`);
    single.set(flag, value);
  }
  positional.push(...words.slice(i));

  const int = (flag: string): number | undefined => {
    const value = single.get(flag);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw usageError(`submit: --${flag} must be a whole number (got "${value}")`);
    return Number(value);
  };
  const seconds = (flag: string): number | undefined => {
    const value = single.get(flag);
    if (value === undefined) return undefined;
    if (/^\d+$/.test(value)) return Number(value);
    const ms = parseDurationMs(value);
    if (ms === undefined || /^\s*[\d.]+\s*$/.test(value)) {
      throw usageError(`submit: --${flag} takes seconds or a duration such as 90s, 5m or 2h (got "${value}")`);
    }
    return Math.ceil(ms / 1000);
  };
  const timeout = (): number | undefined => seconds('timeout');

  const runtime = single.get('runtime');
  const body: Record<string, unknown> = {};
  if (runtime !== undefined) body.runtime = runtime;
  const withImage = runtime === undefined || runtime === 'docker';
  if (withImage && positional.length > 0) body.image = positional[0];
  const command = withImage ? positional.slice(1) : positional;
  if (command.length > 0) body.command = command;
  const name = single.get('name');
  if (name !== undefined) body.name = name;
  const resources: Record<string, unknown> = {};
  for (const key of ['cpu', 'memory', 'disk'] as const) {
    const value = single.get(key);
    if (value !== undefined) resources[key] = value;
  }
  const gpu = int('gpu');
  if (gpu !== undefined) resources.gpu = gpu;
  if (Object.keys(resources).length > 0) body.resources = resources;
  const priority = int('priority');
  if (priority !== undefined) body.priority = priority;
  const retries = int('retries');
  if (retries !== undefined) body.maxRetries = retries;
  const timeoutSeconds = timeout();
  if (timeoutSeconds !== undefined) body.timeoutSeconds = timeoutSeconds;
  if (Object.keys(pairs.env).length > 0) body.env = pairs.env;
  if (Object.keys(pairs.label).length > 0) body.labels = pairs.label;
  // the container settings go as they are: parseTaskInput checks them, as for REST
  const network = single.get('network');
  if (network !== undefined) body.network = network;
  const user = single.get('user');
  if (user !== undefined) body.user = user;
  if (single.has('read-only')) body.readOnlyRootFilesystem = true;
  if (lists['cap-add']) body.capAdd = lists['cap-add'];
  const pull = single.get('pull');
  if (pull !== undefined) body.pullPolicy = pull;
  // the retry policy: parseTaskInput checks the numbers and the endings, as for REST
  const policy: Record<string, unknown> = {};
  const backoff = seconds('backoff');
  if (backoff !== undefined) policy.backoffSeconds = backoff;
  const maxBackoff = seconds('max-backoff');
  if (maxBackoff !== undefined) policy.maxBackoffSeconds = maxBackoff;
  const multiplier = single.get('backoff-multiplier');
  if (multiplier !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(multiplier)) throw usageError(`submit: --backoff-multiplier must be a number such as 2 or 1.5 (got "${multiplier}")`);
    policy.backoffMultiplier = Number(multiplier);
  }
  const retryOn = lists['retry-on']?.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  if (retryOn && retryOn.length > 0) {
    const exitCodes = retryOn.filter((value) => /^\d+$/.test(value)).map(Number);
    const outcomes = retryOn.filter((value) => !/^\d+$/.test(value));
    policy.retryOn = { ...(exitCodes.length > 0 ? { exitCodes } : {}), ...(outcomes.length > 0 ? { outcomes } : {}) };
  }
  if (Object.keys(policy).length > 0) body.retryPolicy = policy;
  // a deadline: a duration from now (10m, or +10m as REST takes it) or an ISO date-time
  for (const [flag, field] of [['start-deadline', 'startDeadline'], ['deadline', 'deadline']] as const) {
    const value = single.get(flag);
    if (value !== undefined) body[field] = /^\d/.test(value) && !value.includes('T') ? `+${value}` : value;
  }
  const queue = single.get('queue');
  if (queue !== undefined) body.queue = queue;
  const worker = single.get('worker');
  if (worker !== undefined) body.workerId = worker;
  return body;
}
