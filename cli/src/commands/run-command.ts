// `wharf run IMAGE [CMD...]`: submit a task, stream its log live (stdout to stdout, stderr to
// stderr, as the container wrote them) and exit with the task's exit code, like `docker run`.
//
// Exit status: the task's exit code when it ran and exited; 125 when it failed without one
// (image pull failure, timeout, a runtime error: the reason goes to stderr); 130 when it was
// cancelled; 0 for -d (the id is printed) and for a detach chosen at the Ctrl-C prompt.
// Ctrl-C on a terminal asks "cancel the task or detach? [c/d]"; without a terminal, Ctrl-C
// (or SIGTERM) detaches at once, says so on stderr with the id, and exits 130 (143).
import { parseDurationMs } from '@wharf/proto/units';
import type { ApiClient } from '../api-client.js';
import type { TaskView } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import type { CommandSpec, ParsedArgs } from '../command-spec.js';
import { CliError, EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { followTaskLog, type LogEnd } from '../log-follower.js';
import { intOption, listOption, flagOption, stringOption } from '../parse-args.js';
import { askKey, isInteractive } from '../prompt.js';
import { LogPrinter } from './log-printer.js';

export const EXIT_TASK_DID_NOT_RUN = 125;
const EXIT_SIGTERM = 143;
/** after a cancel, how long to wait for the master to confirm the end before exiting anyway */
const CANCEL_CONFIRM_MS = 15_000;
/** while no output has come, how often (on a terminal) to say why the task waits */
const WAITING_POLL_MS = 2000;

function pairs(command: string, flag: string, values: readonly string[], env?: NodeJS.ProcessEnv): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    let key: string;
    let val: string | undefined;
    if (eq > 0) {
      key = value.slice(0, eq);
      val = value.slice(eq + 1);
    } else if (eq < 0 && env && value !== '') {
      // -e NAME: the value of NAME here, as docker run does
      key = value;
      val = env[value];
      if (val === undefined) throw new UsageError(`--${flag} ${value}: ${value} is not set here (give ${value}=VALUE)`, command);
    } else {
      throw new UsageError(`--${flag} takes KEY=VALUE (got "${value}")`, command);
    }
    if (key in map) throw new UsageError(`--${flag} ${key} is given twice`, command);
    map[key] = val;
  }
  return map;
}

/** `--flag 90s|5m|2h|seconds` as whole seconds. */
function durationSeconds(args: ParsedArgs, flag: string): number | undefined {
  const value = stringOption(args, flag);
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : /^\d+(\.\d+)?(s|m|h|d)$/.test(value) ? parseDurationMs(value) : undefined;
  if (ms === undefined) throw new UsageError(`--${flag} takes seconds or a duration such as 90s, 5m or 2h (got "${value}")`, 'run');
  return Math.ceil(ms / 1000);
}

/** The POST /api/tasks body of `wharf run`'s words. Only syntax is checked here; the API judges the rest. */
export function runBody(args: ParsedArgs, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const runtime = stringOption(args, 'runtime');
  const withImage = runtime === undefined || runtime === 'docker' || runtime === 'kubernetes';
  const words = [...args.positionals, ...args.rest];
  const body: Record<string, unknown> = {};
  if (runtime !== undefined) body.runtime = runtime;
  if (withImage) {
    if (args.positionals.length === 0) throw new UsageError('needs an image (wharf run IMAGE [-- COMMAND...])', 'run');
    body.image = args.positionals[0];
  }
  const command = withImage ? [...args.positionals.slice(1), ...args.rest] : words;
  if (!withImage && command.length === 0) throw new UsageError(`--runtime ${runtime} needs a command`, 'run');
  if (command.length > 0) body.command = command;
  const name = stringOption(args, 'name');
  if (name !== undefined) body.name = name;
  const resources: Record<string, unknown> = {};
  for (const key of ['cpu', 'memory', 'disk'] as const) {
    const value = stringOption(args, key);
    if (value !== undefined) resources[key] = value;
  }
  const gpu = intOption('run', args, 'gpu', 0, 1024);
  if (gpu !== undefined) resources.gpu = gpu;
  if (Object.keys(resources).length > 0) body.resources = resources;
  const priority = intOption('run', args, 'priority', -1_000_000, 1_000_000);
  if (priority !== undefined) body.priority = priority;
  const retries = intOption('run', args, 'retries', -1_000_000, 1_000_000);
  if (retries !== undefined) body.maxRetries = retries;
  const timeout = stringOption(args, 'timeout');
  if (timeout !== undefined) {
    const ms = /^\d+$/.test(timeout) ? Number(timeout) * 1000 : /^\d+(\.\d+)?(s|m|h|d)$/.test(timeout) ? parseDurationMs(timeout) : undefined;
    if (ms === undefined) throw new UsageError(`--timeout takes seconds or a duration such as 90s, 5m or 2h (got "${timeout}")`, 'run');
    body.timeoutSeconds = Math.ceil(ms / 1000);
  }
  const policy: Record<string, unknown> = {};
  const backoff = durationSeconds(args, 'backoff');
  if (backoff !== undefined) policy.backoffSeconds = backoff;
  const maxBackoff = durationSeconds(args, 'max-backoff');
  if (maxBackoff !== undefined) policy.maxBackoffSeconds = maxBackoff;
  const multiplier = stringOption(args, 'backoff-multiplier');
  if (multiplier !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(multiplier)) throw new UsageError(`--backoff-multiplier must be a number such as 2 or 1.5 (got "${multiplier}")`, 'run');
    policy.backoffMultiplier = Number(multiplier);
  }
  const retryOn = listOption(args, 'retry-on').flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  if (retryOn.length > 0) {
    const exitCodes = retryOn.filter((value) => /^\d+$/.test(value)).map(Number);
    const outcomes = retryOn.filter((value) => !/^\d+$/.test(value));
    policy.retryOn = { ...(exitCodes.length > 0 ? { exitCodes } : {}), ...(outcomes.length > 0 ? { outcomes } : {}) };
  }
  if (Object.keys(policy).length > 0) body.retryPolicy = policy;
  // a deadline: a duration from now (10m, or +10m as the API takes it) or an ISO date-time
  for (const [flag, field] of [['start-deadline', 'startDeadline'], ['deadline', 'deadline']] as const) {
    const value = stringOption(args, flag);
    if (value !== undefined) body[field] = /^\d/.test(value) && !value.includes('T') ? `+${value}` : value;
  }
  const envVars = pairs('run', 'env', listOption(args, 'env'), env);
  if (envVars) body.env = envVars;
  const labels = pairs('run', 'label', listOption(args, 'label'));
  if (labels) body.labels = labels;
  const queue = stringOption(args, 'queue');
  if (queue !== undefined) body.queue = queue;
  const worker = stringOption(args, 'worker');
  if (worker !== undefined) body.workerId = worker;
  return body;
}

/** How `wharf run` exits for a task that ended, and what it says on stderr. */
export function runOutcome(end: LogEnd, task: Pick<TaskView, 'reason'> | undefined): { code: number; message?: string } {
  const reason = task?.reason;
  if (end.status === 'succeeded') return { code: 0 };
  if (end.status === 'cancelled') return { code: EXIT_INTERRUPTED, message: `the task was cancelled${reason ? ` (${reason})` : ''}` };
  // failed: its own exit code when it ran and exited non-zero; the reason when that is not just the exit code
  const ownReason = reason && !/^exit code -?\d+$/.test(reason) ? reason : undefined;
  if (end.exitCode !== null && end.exitCode > 0 && end.exitCode < 256) {
    return { code: end.exitCode, ...(ownReason ? { message: `the task failed: ${ownReason}` } : {}) };
  }
  return { code: EXIT_TASK_DID_NOT_RUN, message: `the task failed: ${ownReason ?? reason ?? 'no exit code'}` };
}

export const RUN_COMMAND: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE [COMMAND...]',
  summary: 'run a task and stream its output; exits with its exit code',
  description: [
    'Submits a task, follows its log live (the task\'s stdout on stdout, its stderr on stderr) and',
    'exits with the task\'s exit code, like docker run. The words after IMAGE are the command as',
    'argv (no shell: use sh -c \'...\' for a shell line); put the command after -- when it has',
    'options of its own (wharf run IMAGE -- ls -l). wharf\'s options may come before or after IMAGE.',
    '',
    'Exit status: the task\'s exit code; 125 when it failed without one (an image that cannot be',
    'pulled, a timeout, a runtime error: the reason is printed on stderr); 130 when it was',
    'cancelled; 1 for an API error; 2 for a usage error.',
    '',
    'Ctrl-C on a terminal asks whether to cancel the task (c) or detach and leave it running (d,',
    'exit 0); any other key keeps following. Without a terminal, Ctrl-C or SIGTERM detaches at once',
    'and prints the id on stderr (exit 130 or 143); the task keeps running.',
    'Resources default to cpu 0.5 and memory 256Mi (the master\'s defaults); the queue is default',
    'and the priority the queue\'s default priority unless given.',
  ].join('\n'),
  examples: [
    "wharf run wharf/busybox -- sh -c 'echo hi; exit 3'; echo $?   # hi, then 3",
    'wharf run -d --cpu 2 --memory 4Gi --gpu 1 --name train my/trainer:1.2 python train.py',
    'wharf run --env MODE=fast -e HOME --label zone=a --retries 2 --timeout 10m wharf/busybox -- ./job.sh',
  ],
  options: [
    { name: 'detach', short: 'd', help: 'submit, print the task id and return' },
    { name: 'name', value: 'NAME', help: 'the task\'s name (default: the image\'s)' },
    { name: 'cpu', value: 'CORES', help: 'cpu cores to reserve: 0.5, 2 or 500m (0.5)' },
    { name: 'memory', value: 'SIZE', help: 'memory limit: 512Mi, 2Gi (256Mi)' },
    { name: 'disk', value: 'SIZE', help: 'disk to reserve: 10Gi (0)' },
    { name: 'gpu', value: 'N', help: 'GPUs (0)' },
    { name: 'env', short: 'e', value: 'K=V', multiple: true, help: 'an environment variable; -e K alone passes K\'s value from here (repeatable)' },
    { name: 'label', short: 'l', value: 'K=V', multiple: true, help: 'the worker must carry this label (repeatable)' },
    { name: 'priority', value: 'N', help: '0-100, higher first (the queue\'s default, 50 for default)' },
    { name: 'queue', value: 'NAME', help: 'the queue it waits in (default)', complete: 'queue' },
    { name: 'worker', value: 'ID', help: 'pin it to this worker id (admins only)' },
    { name: 'retries', value: 'N', help: 'retries after a non-zero exit, an error or a timeout (0)' },
    { name: 'timeout', value: 'DURATION', help: 'seconds, or 90s, 5m, 2h (none)' },
    { name: 'backoff', value: 'DURATION', help: 'the first retry\'s wait (the master\'s default)' },
    { name: 'backoff-multiplier', value: 'X', help: 'each retry waits this much longer, 1-10 (2)' },
    { name: 'max-backoff', value: 'DURATION', help: 'the longest a retry waits (the master\'s default)' },
    { name: 'retry-on', value: 'CODE|ENDING', multiple: true, help: 'retry only these exit codes or endings (timed_out, error, failed, unverified); repeatable or comma-separated' },
    { name: 'start-deadline', value: 'WHEN', help: 'fail if not running by then: 10m, 2h (from now) or an ISO date-time' },
    { name: 'deadline', value: 'WHEN', help: 'stop it and fail if not ended by then: 10m, 2h or an ISO date-time' },
    { name: 'runtime', value: 'R', help: 'docker (default), kubernetes, or exec (a host process, admins only; no image)', complete: 'runtime' },
  ],
  args: ['none'],
  variadic: true,
  async run(ctx, args) {
    const body = runBody(args, ctx.io.env);
    const client = ctx.client();
    const { task } = await client.request<{ task: TaskView }>('POST', '/api/tasks', { json: body });
    if (flagOption(args, 'detach')) {
      ctx.out.line(task.id);
      return;
    }
    const id = task.id;
    const short = id.slice(0, 8);
    const printer = new LogPrinter(ctx, true);
    printer.note(`task ${short} (${task.name}) ${task.status}; Ctrl-C to cancel or detach`);
    const interrupts = new RunInterrupts(ctx, client, printer, id);
    let heard = false;
    const stopWaitingNotes = task.status === 'queued' ? sayWhyItWaits(ctx, client, printer, id, () => heard || interrupts.prompting) : () => undefined;
    let end: LogEnd | 'detached';
    try {
      end = await followTaskLog(client, id, {
        onChunk: (chunk) => {
          heard = true;
          printer.chunk(chunk);
        },
        onReconnect: (why, delayMs) => printer.note(`log stream dropped (${why}); reconnecting in ${delayMs}ms`),
        signal: interrupts.following.signal,
      });
    } finally {
      stopWaitingNotes();
      interrupts.stop();
      printer.release();
      printer.finish();
    }
    if (end === 'detached') {
      if (interrupts.cancelRequested) {
        printer.noteAlways(`the master has not confirmed the end of task ${short} yet (wharf get ${short})`);
        return EXIT_INTERRUPTED;
      }
      printer.noteAlways(`detached from task ${id}; it keeps running (wharf logs -f ${short} follows it, wharf cancel ${short} stops it)`);
      return interrupts.exitOnDetach;
    }
    const final = end.status === 'succeeded' ? undefined : (await client.get<{ task: TaskView }>(`/api/tasks/${id}`)).task;
    const outcome = runOutcome(end, final);
    if (outcome.message) printer.noteAlways(outcome.message);
    return outcome.code;
  },
};

/**
 * Ctrl-C and SIGTERM while `wharf run` follows a task. On a terminal, Ctrl-C asks whether to
 * cancel (the task is cancelled and the follower waits for the master to confirm the end) or to
 * detach; any other key keeps following. Without a terminal, a signal detaches at once.
 */
class RunInterrupts {
  /** aborted to stop following (a detach, or a cancel the master did not confirm in time) */
  readonly following = new AbortController();
  /** aborted when following ended: a question still on screen no longer matters */
  private readonly ended = new AbortController();
  private readonly unregister: () => void;
  prompting = false;
  cancelRequested = false;
  exitOnDetach = 0;

  constructor(
    private readonly ctx: CommandContext,
    private readonly client: ApiClient,
    private readonly printer: LogPrinter,
    private readonly taskId: string,
  ) {
    const interactive = isInteractive(ctx.io);
    this.unregister = ctx.io.onSignal((signal) => {
      if (this.prompting) return;
      if (signal === 'SIGINT' && interactive) {
        this.ask().catch((error: unknown) => {
          this.prompting = false;
          this.printer.release();
          this.printer.noteAlways(`the prompt failed (${error instanceof Error ? error.message : String(error)}); detaching`);
          this.following.abort();
        });
        return;
      }
      this.exitOnDetach = signal === 'SIGTERM' ? EXIT_SIGTERM : EXIT_INTERRUPTED;
      this.following.abort();
    });
  }

  private async ask(): Promise<void> {
    this.prompting = true;
    this.printer.hold();
    const short = this.taskId.slice(0, 8);
    const key = await askKey(this.ctx.io, `\nwharf: cancel task ${short} or detach (it keeps running)? [c/d] `, ['c', 'd'], 'other', this.ended.signal);
    this.prompting = false;
    if (key === 'd' || key === '\x03') {
      this.following.abort();
      return;
    }
    this.printer.release();
    if (key !== 'c') {
      if (!this.ended.signal.aborted) this.printer.noteAlways('still following (Ctrl-C again to choose)');
      return;
    }
    this.printer.noteAlways(`cancelling task ${short}`);
    this.cancelRequested = true;
    try {
      await this.client.request('DELETE', `/api/tasks/${this.taskId}`);
    } catch (error: unknown) {
      if (!(error instanceof CliError)) throw error;
      this.printer.noteAlways(error.code === 'conflict' ? 'the task had already finished' : `could not cancel: ${error.message} [${error.code}]`);
    }
    setTimeout(() => this.following.abort(), CANCEL_CONFIRM_MS).unref();
  }

  stop(): void {
    this.ended.abort();
    this.unregister();
  }
}

/** On a terminal, while the task prints nothing yet, says why it waits (when the reason changes). */
function sayWhyItWaits(ctx: CommandContext, client: ApiClient, printer: LogPrinter, taskId: string, quiet: () => boolean): () => void {
  if (!ctx.io.stderr.isTTY) return () => undefined;
  let lastReason: string | undefined;
  const timer = setInterval(() => {
    if (quiet()) return;
    client.get<{ task: TaskView }>(`/api/tasks/${taskId}`).then(
      ({ task }) => {
        if (quiet() || task.status !== 'queued' || !task.reason || task.reason === lastReason) return;
        lastReason = task.reason;
        printer.note(`waiting: ${task.reason}`);
      },
      () => undefined, // trouble with the master shows in the log follower
    );
  }, WAITING_POLL_MS);
  return () => clearInterval(timer);
}
