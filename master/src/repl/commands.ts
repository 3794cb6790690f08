// The REPL's commands. Each one parses its words, calls the same domain services as the REST
// routes (as the admin) and prints; no rule about tasks or workers lives here.
import type { Leadership } from '../leadership/leadership.js';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { formatBytes, parseBytes } from '@wharf/proto';
import type { AuditTrail } from '../audit/audit-trail.js';
import { parseAuditTime } from '../audit/audit-time.js';
import type { AuthService } from '../auth/auth-service.js';
import { DEFAULT_INVITE_LIFETIME_MS, inviteState, MAX_INVITE_LIFETIME_MS } from '../auth/invites.js';
import type { UserAdmin } from '../auth/user-admin.js';
import type { JoinTokens } from '../cluster/join-tokens.js';
import type { WorkerIdentity } from '../cluster/worker-identity.js';
import type { LiveWorker, WorkerRegistry } from '../cluster/worker-registry.js';
import { parseDurationMs } from '../config/durations.js';
import { DEFAULT_METRICS_LIMIT, MAX_METRICS_LIMIT } from '../dags/dag-metrics.js';
import type { GangService } from '../gangs/gang-service.js';
import type { DagService } from '../dags/dag-service.js';
import { DAG_NAME_PATTERN, MAX_DAG_FILE_BYTES, parseDagFile } from '../dags/dag-spec.js';
import { WharfError } from '../errors.js';
import type { FileStore } from '../files/file-store.js';
import { assertFilesKept } from '../files/files-removed.js';
import type { GarbageCollector } from '../gc/garbage-collector.js';
import { StorageUsage } from '../gc/storage-usage.js';
import type { LogStore } from '../logs/log-store.js';
import { TASK_STATUSES, TERMINAL_TASK_STATUSES, type Task, type TaskStatus } from '../records/task.js';
import type { User } from '../records/user.js';
import type { EffectiveSettings } from '../records/attempt.js';
import { parseTaskInput } from '../tasks/task-input.js';
import { describeRetryOn, MAX_DEAD_LETTER_BULK as MAX_BULK, type TaskService } from '../tasks/task-service.js';
import { joinTokenView } from '../http/cluster-routes.js';
import { parseBody } from '../http/handle.js';
import { createQueueSchema, patchQueueSchema, userLimitSchema } from '../queues/queue-input.js';
import type { QueueService, QueueWithStatus } from '../queues/queue-service.js';
import { gangDetailsView, gangsTable } from './gang-views.js';
import { cacheSummaryLine, dagDetailsView, dagFileContentType, dagMetricsTable, dagRunsTable } from './dag-views.js';
import {
  ago,
  cell,
  distinctPrefixLength,
  fields,
  formatCpu,
  formatDuration,
  formatMap,
  formatResources,
  isoTime,
  showControls,
  table,
  usage,
  type Style,
} from './format.js';
import type { IdResolver } from './id-resolver.js';
import { parseSubmitArgs, SUBMIT_FLAGS, SUBMIT_USAGE } from './submit-args.js';

/** What the REPL needs from the master (a subset of MasterHandle). */
export interface ReplServices {
  tasks: TaskService;
  registry: WorkerRegistry;
  auth: AuthService;
  logs: LogStore;
  files: FileStore;
  dags: DagService;
  /** gangs (gangs, gang); absent: the commands say there are none */
  gangs?: GangService | undefined;
  /** join tokens (join-tokens, join-token create/revoke) */
  joinTokens: JoinTokens;
  /** worker certificates (remove-worker) */
  identity: WorkerIdentity;
  /** accounts (users, user, invite) */
  users: UserAdmin;
  /** the audit trail (audit); every command that changes something is recorded in it */
  audit: AuditTrail;
  /** queues and user limits (queues) */
  queues: QueueService;
  /** retention (gc) and storage usage (usage) */
  gc: GarbageCollector;
  usage: StorageUsage;
  /** the start join token */
  joinToken: string;
  /** `sha256:…` of the CA workers pin */
  caHash: string;
  grpcAddress: string;
  httpUrl: string;
  /** the one-line join (curl … /join.sh | sh) with `token` in it; undefined when the master has no worker bundle */
  oneLineJoinFor?(token: string): Promise<string | undefined>;
  /** several masters: whether this one leads, and where the leader is (status) */
  leadership?: Pick<Leadership, 'isLeader' | 'leader' | 'knownEpoch'> | undefined;
}

export interface ReplContext {
  services: ReplServices;
  /** the REPL acts as this admin */
  admin: User;
  ids: IdResolver;
  style: Style;
  /** a terminal: live views redraw and wait for a key; otherwise they print once */
  terminal: boolean;
  /** prints text and a newline */
  print(text: string): void;
  /** writes text as it is (log bytes) */
  write(text: string): void;
  /**
   * An interruptible phase (logs -f, status): the signal aborts on Ctrl-C, and on any key
   * when `anyKey`. Call release() when the phase ends.
   */
  interruptible(options: { anyKey: boolean }): { signal: AbortSignal; release(): void };
  /** where `download` saves by default */
  cwd: string;
  /** the operator typed exit: stop the master */
  exit(): void;
  /** names the object a command changed, for its audit entry (the words typed otherwise) */
  auditObject(object: string): void;
  now(): number;
}

/** What a positional argument is, for Tab. */
export type ArgKind = 'command' | 'task' | 'worker' | 'status' | 'dag' | 'gang' | 'dagName' | 'file' | 'joinToken' | 'deadLetter' | 'queueAction' | 'queue' | 'none';

/** What `queues` does (for Tab). */
export const QUEUE_ACTIONS: readonly string[] = ['show', 'create', 'set', 'rm', 'limit', 'unlimit'];

export interface Command {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  /** kinds of the positional arguments, for Tab */
  args: ArgKind[];
  /** options, for Tab */
  flags?: readonly string[];
  /**
   * The audit action of a command that changes something (`task.submit`), from its words;
   * undefined for a command that only reads (or for words that only read, e.g. `dag <id>`).
   */
  audit?: (args: readonly string[]) => string | undefined;
  run(ctx: ReplContext, args: string[]): Promise<void> | void;
}

const usageError = (command: Command, problem: string) =>
  new WharfError('validation_failed', `${command.name}: ${problem} (usage: ${command.usage})`);

/** The task's container settings in one line ("network none, user 1000, read-only root, +NET_ADMIN, pull Always"). */
function containerSettings(t: Pick<Task, 'network' | 'user' | 'readOnlyRootFilesystem' | 'capAdd' | 'pullPolicy'>): string {
  return [
    `network ${t.network ?? 'default'}`,
    `user ${t.user ?? '(default)'}`,
    ...(t.readOnlyRootFilesystem ? ['read-only root'] : []),
    ...(t.capAdd ?? []).map((c) => `+${c}`),
    `pull ${t.pullPolicy ?? 'IfNotPresent'}`,
  ].join(', ');
}

/** A task's deadlines in one line ("start by 2030-…; end by 2030-… (exceeded)"). */
function deadlinesLine(t: Pick<Task, 'startDeadline' | 'deadline' | 'deadlineExceeded'>): string {
  const parts: string[] = [];
  if (t.startDeadline !== undefined) parts.push(`start by ${isoTime(t.startDeadline)}${t.deadlineExceeded === 'startDeadline' ? ' (exceeded)' : ''}`);
  if (t.deadline !== undefined) parts.push(`end by ${isoTime(t.deadline)}${t.deadlineExceeded === 'deadline' ? ' (exceeded)' : ''}`);
  return parts.join('; ') || 'none';
}

/** The rest of a task's retry policy, after its retries ("; backoff 5s ×2 up to 300s; retry on exit codes 75"). */
function retryPolicyLine(t: Pick<Task, 'retryPolicy' | 'deadLetteredAt'>): string {
  const p = t.retryPolicy;
  const parts: string[] = [];
  if (p) parts.push(`backoff ${p.backoffSeconds}s ×${p.backoffMultiplier} up to ${p.maxBackoffSeconds}s`);
  if (p?.retryOn) parts.push(`retry on ${describeRetryOn(p.retryOn).replace(/^retryOn: /, '')}`);
  if (t.deadLetteredAt !== undefined) parts.push('a dead letter');
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

/** What a worker applied, in one line. */
function appliedSettings(e: EffectiveSettings): string {
  return [
    `cpu ${e.cpu || 'unlimited'}`,
    `memory ${e.memory ? formatBytes(e.memory) : 'unlimited'}`,
    ...(e.disk ? [`disk ${formatBytes(e.disk)}`] : []),
    `user ${e.user || '(image)'}`,
    `network ${e.network}`,
    ...(e.readOnlyRootFilesystem ? ['read-only root'] : []),
    `caps ${e.capabilities.join(' ')}`,
  ].join(', ');
}

function expectArgs(command: Command, args: readonly string[], min: number, max: number): void {
  if (args.length < min) throw usageError(command, min === 1 && max === 1 ? `needs ${command.usage.split(' ')[1] ?? 'an argument'}` : 'missing arguments');
  if (args.length > max) throw usageError(command, `unexpected "${args[max]}"`);
}

/** Splits `--limit N` (and `--limit=N`) out of the words; answers the rest and the limit. */
function takeLimit(command: Command, args: readonly string[], fallback: number, max: number): { rest: string[]; limit: number } {
  const rest: string[] = [];
  let limit = fallback;
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i]!;
    if (word === '--limit' || word.startsWith('--limit=')) {
      const value = word === '--limit' ? args[++i] : word.slice('--limit='.length);
      const n = Number(value);
      if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > max) {
        throw usageError(command, `--limit takes a whole number 1-${max} (got ${value === undefined ? 'nothing' : `"${value}"`})`);
      }
      limit = n;
    } else if (word.startsWith('-')) {
      throw usageError(command, `unknown option ${word}`);
    } else {
      rest.push(word);
    }
  }
  return { rest, limit };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolveSleep();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function workerRow(ctx: ReplContext, worker: LiveWorker, running: number, idLength: number): string[] {
  const { record: r, reserved } = worker;
  const s = ctx.style;
  return [
    r.id.slice(0, idLength),
    cell(r.name, 30),
    s.status(r.status),
    worker.channel ? 'yes' : s.dim('no'),
    r.runtimes.join(','),
    usage(reserved.cpu, r.capacity.cpu, 'cpu'),
    usage(reserved.memory, r.capacity.memory, 'bytes'),
    usage(reserved.gpu, r.capacity.gpu, 'count'),
    String(running),
    ago(r.lastHeartbeatAt, ctx.now()),
  ];
}
const WORKER_HEADERS = ['ID', 'NAME', 'STATUS', 'CONNECTED', 'RUNTIMES', 'CPU', 'MEMORY', 'GPU', 'TASKS', 'HEARTBEAT'];

function workersTable(ctx: ReplContext): string {
  const workers = ctx.services.registry.list();
  if (workers.length === 0) return ctx.style.dim('no workers have joined yet (see `token` and `join-token create`)');
  const running = ctx.services.tasks.attemptsByWorker();
  const idLength = distinctPrefixLength(workers.map((w) => w.record.id));
  return table(
    WORKER_HEADERS,
    workers.map((w) => workerRow(ctx, w, running.get(w.record.id) ?? 0, idLength)),
    ctx.style,
  );
}

function taskOutcome(task: Task): string {
  if (task.status === 'succeeded' || task.status === 'failed') {
    const exit = task.exitCode === undefined ? '' : `exit ${task.exitCode}`;
    return task.reason && task.status === 'failed' ? task.reason : exit;
  }
  return task.reason ?? '';
}

function queueTable(ctx: ReplContext, limit: number): { text: string; total: number; shown: number } {
  const snapshot = ctx.services.tasks.queueSnapshot(limit);
  const idLength = distinctPrefixLength(snapshot.tasks.map((q) => q.task.id));
  const now = ctx.now();
  const text = table(
    ['POS', 'ID', 'NAME', 'PRIO', 'CPU', 'MEMORY', 'GPU', 'WAITING', 'WHY'],
    snapshot.tasks.map(({ position, task }) => [
      String(position),
      task.id.slice(0, idLength),
      cell(task.name, 30),
      String(task.priority),
      formatCpu(task.resources.cpu),
      formatBytes(task.resources.memory),
      String(task.resources.gpu),
      formatDuration(now - task.createdAt),
      cell(task.reason ?? '(the scheduler has not looked at it yet)', 90),
    ]),
    ctx.style,
  );
  return { text, total: snapshot.total, shown: snapshot.tasks.length };
}

/** Who leads: this master (with its epoch), or the leader a standby knows (its own systems are idle). */
function leadershipLine(ctx: ReplContext): string {
  const leadership = ctx.services.leadership;
  const s = ctx.style;
  if (!leadership) return `${s.dim('role:   ')} leader`;
  if (leadership.isLeader()) return `${s.dim('role:   ')} leader (lease epoch ${leadership.knownEpoch ?? '-'})`;
  const leader = leadership.leader();
  return `${s.dim('role:   ')} standby · ${leader ? `the leader is ${leader.address} (${leader.httpUrl}), epoch ${leader.epoch}` : 'no leader known right now'} · the figures below are this standby's (idle)`;
}

async function statusView(ctx: ReplContext): Promise<string> {
  const { tasks, registry, httpUrl, grpcAddress } = ctx.services;
  const s = ctx.style;
  const w = registry.counts();
  const t = tasks.counts();
  const lines = [
    `${s.bold('Wharf master')}  ${httpUrl}  ·  workers dial ${grpcAddress}  ·  ${new Date(ctx.now()).toISOString()}`,
    leadershipLine(ctx),
    `${s.dim('workers:')} ${w.ready} ${s.status('ready')}, ${w.draining} ${s.status('draining')}, ${w.lost} ${s.status('lost')}`,
    `${s.dim('tasks:  ')} ${t.queued} ${s.status('queued')}, ${t.assigned} ${s.status('assigned')}, ${t.running} ${s.status('running')}`,
    '',
    workersTable(ctx),
  ];
  if (t.queued > 0) {
    const queue = queueTable(ctx, 5);
    lines.push('', s.bold(`Queue (first ${queue.shown} of ${queue.total})`), queue.text);
  }
  const running = await tasks.list(ctx.admin, { status: 'running', limit: 10 });
  if (running.tasks.length > 0) {
    const idLength = distinctPrefixLength(running.tasks.map((task) => task.id));
    lines.push(
      '',
      s.bold(`Running${running.nextCursor ? ' (newest 10)' : ''}`),
      table(
        ['ID', 'NAME', 'WORKER', 'FOR'],
        running.tasks.map((task) => [
          task.id.slice(0, idLength),
          cell(task.name, 30),
          (task.workerId ?? '-').slice(0, 8),
          task.startedAt === undefined ? '-' : formatDuration(ctx.now() - task.startedAt),
        ]),
        s,
      ),
    );
  }
  return lines.join('\n');
}

/** Prints a task's stored log, then with `follow` its live chunks until it ends or Ctrl-C. */
async function printLogs(ctx: ReplContext, taskId: string, follow: boolean): Promise<void> {
  const { tasks, logs } = ctx.services;
  const s = ctx.style;
  const details = await tasks.get(ctx.admin, taskId);
  assertFilesKept(details);
  const attempts = new Map(details.attempts.map((a) => [a.id, { number: a.number, workerId: a.workerId }]));
  const decoders = new Map<string, StringDecoder>();
  let lastAttempt: string | undefined;
  let atLineStart = true;
  const write = (attemptId: string, stream: string, data: Buffer) => {
    if (lastAttempt !== attemptId && (lastAttempt !== undefined || attempts.size > 1)) {
      const attempt = attempts.get(attemptId);
      if (!atLineStart) ctx.write('\n');
      ctx.print(s.dim(`--- attempt ${attempt?.number ?? '?'}${attempt ? ` on worker ${attempt.workerId}` : ''} ---`));
      atLineStart = true;
    }
    lastAttempt = attemptId;
    const key = `${attemptId}:${stream}`;
    let decoder = decoders.get(key);
    if (!decoder) {
      decoder = new StringDecoder('utf8');
      decoders.set(key, decoder);
    }
    const text = decoder.write(data);
    if (text === '') return;
    ctx.write(ctx.terminal ? showControls(text) : text);
    atLineStart = text.endsWith('\n');
  };
  const endLine = () => {
    if (!atLineStart) ctx.write('\n');
    atLineStart = true;
  };
  // read and subscribe in the same tick: no chunk can fall between them
  for (const entry of logs.read(details.id, [...attempts.keys()])) write(entry.attemptId, entry.stream, entry.data);
  if (!follow) {
    endLine();
    if (details.attempts.length === 0) ctx.print(s.dim(`(no log yet: the task is ${details.status})`));
    return;
  }
  if (!tasks.isActive(details.id)) {
    endLine();
    ctx.print(s.dim(`--- task ${details.id.slice(0, 8)} already ${details.status}${details.exitCode === undefined ? '' : ` (exit ${details.exitCode})`} ---`));
    return;
  }
  const live = ctx.interruptible({ anyKey: false });
  await new Promise<void>((resolveFollow) => {
    const stopLogs = logs.subscribe(details.id, (entry) => write(entry.attemptId, entry.stream, entry.data));
    const stopTasks = tasks.onTaskChange((task) => {
      if (task.id !== details.id) return;
      if (task.currentAttemptId && !attempts.has(task.currentAttemptId)) {
        attempts.set(task.currentAttemptId, { number: task.attemptCount, workerId: task.workerId ?? '?' });
      }
      if (TERMINAL_TASK_STATUSES.has(task.status)) finish(task);
    });
    const onAbort = () => finish(undefined);
    live.signal.addEventListener('abort', onAbort, { once: true });
    function finish(task: Task | undefined): void {
      stopLogs();
      stopTasks();
      live.signal.removeEventListener('abort', onAbort);
      live.release();
      endLine();
      if (task) {
        const exit = task.exitCode === undefined ? '' : ` (exit ${task.exitCode})`;
        ctx.print(s.dim(`--- task ${task.id.slice(0, 8)} ${task.status}${exit} ---`));
      } else {
        ctx.print(s.dim('--- stopped following; the task keeps running ---'));
      }
      resolveFollow();
    }
  });
}

/** Copies a stored file to `target`, checking its sha256; a temporary name until it matches. */
async function saveFile(files: FileStore, task: Task, file: { path: string; sha256: string }, target: string): Promise<void> {
  const { stream } = await files.openForDownload({ userId: task.userId, taskId: task.id, path: file.path });
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.part-${process.pid}`;
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, hashing, createWriteStream(temp, { mode: 0o644 }));
    const sha256 = hash.digest('hex');
    if (sha256 !== file.sha256) throw new WharfError('data_corrupted', `${file.path}: stored file has sha256 ${sha256}, expected ${file.sha256}`);
    await rename(temp, target);
  } catch (error: unknown) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `key=value` words as a body: numbers as numbers, `null` as null, `selector.k=v` into workerSelector, `constraint=k:op[:v1,v2]` into constraints. */
function keyValues(command: Command, words: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const word of words) {
    const split = word.indexOf('=');
    if (split <= 0) throw usageError(command, `"${cell(word, 40)}" is not key=value`);
    const key = word.slice(0, split);
    const raw = word.slice(split + 1);
    if (key.startsWith('selector.')) {
      body.workerSelector = { ...(body.workerSelector as Record<string, string> | undefined), [key.slice('selector.'.length)]: raw };
    } else if (key === 'constraint') {
      const [label, op, values] = raw.split(':');
      const constraint = values === undefined ? { key: label, op } : { key: label, op, values: values.split(',') };
      body.constraints = [...((body.constraints as unknown[] | undefined) ?? []), constraint];
    } else {
      body[key] = raw === 'null' ? null : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    }
  }
  return body;
}

/** "3/8", "3" when there is no cap. */
function ofCap(used: string, cap: number | undefined, format: (n: number) => string = String): string {
  return cap === undefined ? used : `${used}/${format(cap)}`;
}

function queuesTable(ctx: ReplContext, queues: QueueWithStatus[]): string {
  return table(
    ['QUEUE', 'QUEUED', 'RUNNING', 'CPU', 'MEMORY', 'GPU', 'TASKS', 'PRIO', 'STRATEGY', 'PREEMPTION', 'SELECTOR'],
    queues.map(({ queue, status }) => [
      queue.name,
      String(status.queued),
      ofCap(String(status.running), queue.maxConcurrency),
      ofCap(formatCpu(status.cpu), queue.maxCpu, formatCpu),
      ofCap(formatBytes(status.memory), queue.maxMemory, formatBytes),
      ofCap(String(status.gpu), queue.maxGpus),
      ofCap(String(status.queued + status.running), queue.maxTasks),
      String(queue.defaultPriority),
      queue.strategy,
      queue.preemptionPolicy,
      cell([formatMap(queue.workerSelector), ...queue.constraints.map((c) => `${c.key} ${c.op}${c.values ? ` ${c.values.join(',')}` : ''}`)].filter(Boolean).join('; '), 50),
    ]),
    ctx.style,
  );
}

function commandList(): Command[] {
  const commands: Command[] = [
    {
      name: 'help',
      usage: 'help [command]',
      summary: 'list the commands, or explain one',
      args: ['command'],
      run(ctx, args) {
        expectArgs(this, args, 0, 1);
        const s = ctx.style;
        if (args[0] !== undefined) {
          const command = findCommand(args[0]);
          ctx.print(`${s.bold(command.usage)}\n  ${command.summary}${command.details ? `\n${command.details.replace(/^/gm, '  ')}` : ''}`);
          return;
        }
        ctx.print(table(['COMMAND', 'WHAT IT DOES'], COMMANDS.map((c) => [c.usage.length > 44 ? `${c.name} …` : c.usage, c.summary]), s));
        ctx.print(
          s.dim(
            'A unique prefix of a task, worker or DAG run id is enough; Tab completes commands and ids.\n' +
              'Ctrl-C stops `logs -f` and `status`; `exit` stops the master; Ctrl-D leaves the REPL and keeps the master running.\n' +
              '`help submit` shows every submit option; `help dag` explains DAG files.',
          ),
        );
      },
    },
    {
      name: 'status',
      usage: 'status',
      summary: 'live view of workers, tasks and the queue, refreshed every 2s until a key is pressed',
      details: 'On a terminal the view redraws every 2 seconds until you press a key (or Ctrl-C).\nWithout a terminal (piped input) it prints once.',
      args: [],
      async run(ctx, args) {
        expectArgs(this, args, 0, 0);
        if (!ctx.terminal) {
          ctx.print(await statusView(ctx));
          return;
        }
        const live = ctx.interruptible({ anyKey: true });
        ctx.write('\x1b[?1049h'); // the terminal's alternate screen: the view leaves no trace
        try {
          while (!live.signal.aborted) {
            const view = await statusView(ctx);
            if (live.signal.aborted) break;
            ctx.write(`\x1b[H\x1b[2J${view}\n\n${ctx.style.dim('refreshing every 2s · press any key to return')}\n`);
            await sleep(2000, live.signal);
          }
        } finally {
          ctx.write('\x1b[?1049l');
          live.release();
        }
      },
    },
    {
      name: 'workers',
      usage: 'workers',
      summary: 'the workers: status, connection, reserved/capacity, running tasks, last heartbeat',
      args: [],
      run(ctx, args) {
        expectArgs(this, args, 0, 0);
        ctx.print(workersTable(ctx));
      },
    },
    {
      name: 'worker',
      usage: 'worker <id>',
      summary: 'one worker in detail',
      args: ['worker'],
      run(ctx, args) {
        expectArgs(this, args, 1, 1);
        const worker = ctx.services.registry.get(ctx.ids.workerId(args[0]!))!;
        const r = worker.record;
        const s = ctx.style;
        const u = worker.usage;
        ctx.print(
          fields(
            [
              ['id', r.id],
              ['name', cell(r.name, 200)],
              ['hostname', cell(r.hostname, 200)],
              ['status', s.status(r.status)],
              ['connected', worker.channel ? 'yes' : 'no'],
              ['runtimes', r.runtimes.join(', ')],
              ['labels', cell(formatMap(r.labels), 200)],
              ['capacity', formatResources(r.capacity)],
              ['reserved', formatResources(worker.reserved)],
              [
                'GPU ids',
                r.gpuIds && r.gpuIds.length > 0
                  ? `${r.gpuIds.join(', ')} (in use: ${ctx.services.tasks.gpuIdsInUse(r.id).join(', ') || 'none'})`
                  : s.dim('none given (a count only)'),
              ],
              [
                'usage',
                u
                  ? `cpu ${u.cpuPercent.toFixed(0)}%, memory ${u.memoryPercent.toFixed(0)}%, disk ${u.diskPercent.toFixed(0)}%${u.gpuPercent === undefined ? '' : `, gpu ${u.gpuPercent.toFixed(0)}%`}`
                  : 'no sample yet',
              ],
              ['running tasks', String(ctx.services.tasks.attemptsByWorker().get(r.id) ?? 0)],
              ['version', cell(r.version, 60)],
              ['registered', isoTime(r.registeredAt)],
              ['heartbeat', `${isoTime(r.lastHeartbeatAt)} (${ago(r.lastHeartbeatAt, ctx.now())})`],
            ],
            s,
          ),
        );
      },
    },
    {
      name: 'submit',
      audit: () => 'task.submit',
      usage: SUBMIT_USAGE,
      summary: 'queue a task (as the admin); the same checks as POST /api/tasks',
      details: [
        'The first word is the image, the rest the command as argv (use sh -c \'...\' for a shell line).',
        'With --runtime exec (a host process) there is no image: every word is the command.',
        'Options may come anywhere; after -- every word belongs to the command.',
        '  --cpu 0.5|500m   --memory 512Mi   --disk 1Gi   --gpu N      resources (defaults: WHARF_TASK_DEFAULT_*)',
        '  --priority N     0-100, higher first (50)      --retries N  retries after a failure (0)',
        '  --timeout S      seconds, or 90s, 5m, 2h (none)',
        '  --name X         (the image name)              --runtime docker|exec (docker)',
        '  --env K=V        repeatable                    --label K=V  the worker must carry it; repeatable',
        '  --network default|none|host   --user UID[:GID]   --read-only (root filesystem; /tmp, /output writable)',
        '  --cap-add CAP    add a Linux capability; repeatable   --pull IfNotPresent|Always|Never (IfNotPresent)',
        "Example: submit wharf/busybox sh -c 'echo hi; date > /output/now.txt' --cpu 0.25 --memory 64Mi --retries 1",
      ].join('\n'),
      args: ['none'],
      flags: Object.keys(SUBMIT_FLAGS).map((f) => `--${f}`),
      async run(ctx, args) {
        if (args.length === 0) throw usageError(this, 'needs an image (or --runtime exec and a command)');
        const input = parseTaskInput(parseSubmitArgs(args));
        // --worker: a unique prefix of a connected worker's id is enough, as elsewhere
        if (input.workerId !== undefined) input.workerId = ctx.ids.workerId(input.workerId);
        const task = await ctx.services.tasks.submit(ctx.admin, input);
        ctx.auditObject(`task:${task.id}`);
        ctx.print(`submitted ${ctx.style.bold(task.id)} (${cell(task.name, 60)}): ${ctx.style.status(task.status)}`);
      },
    },
    {
      name: 'tasks',
      usage: 'tasks [status] [--limit N]',
      summary: 'the newest tasks (50 unless --limit, up to 500), optionally only one status',
      details: `status: ${TASK_STATUSES.join(', ')}`,
      args: ['status'],
      flags: ['--limit'],
      async run(ctx, args) {
        const { rest, limit } = takeLimit(this, args, 50, 500);
        expectArgs(this, rest, 0, 1);
        const status = rest[0];
        if (status !== undefined && !TASK_STATUSES.includes(status as TaskStatus)) {
          throw usageError(this, `unknown status "${status}"; one of ${TASK_STATUSES.join(', ')}`);
        }
        const page = await ctx.services.tasks.list(ctx.admin, { status: status as TaskStatus | undefined, limit });
        if (page.tasks.length === 0) {
          ctx.print(ctx.style.dim(status ? `no ${status} tasks` : 'no tasks yet'));
          return;
        }
        const idLength = distinctPrefixLength(page.tasks.map((t) => t.id));
        const now = ctx.now();
        ctx.print(
          table(
            ['ID', 'NAME', 'STATUS', 'IMAGE', 'WORKER', 'CREATED', 'EXIT / REASON'],
            page.tasks.map((t) => [
              t.id.slice(0, idLength),
              cell(t.name, 30),
              ctx.style.status(t.status),
              cell(t.image || `(${t.runtime})`, 40),
              (t.workerId ?? '-').slice(0, 8),
              ago(t.createdAt, now),
              cell(taskOutcome(t), 80),
            ]),
            ctx.style,
          ),
        );
        if (page.nextCursor) ctx.print(ctx.style.dim(`showing the newest ${page.tasks.length}; more exist (tasks${status ? ` ${status}` : ''} --limit 500)`));
      },
    },
    {
      name: 'task',
      usage: 'task <id>',
      summary: 'one task in detail: attempts, output files and events',
      args: ['task'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        const t = await ctx.services.tasks.get(ctx.admin, await ctx.ids.taskId(args[0]!));
        const s = ctx.style;
        const pairs: [string, string][] = [
          ['id', t.id],
          ['name', cell(t.name, 200)],
          ['status', `${s.status(t.status)}${t.queuePosition === undefined ? '' : ` (position ${t.queuePosition} in the queue)`}`],
        ];
        if (t.reason) pairs.push([t.status === 'queued' ? 'waiting' : 'reason', cell(t.reason, 300)]);
        pairs.push(
          ['image', cell(t.image || '-', 200)],
          ['command', t.command.length === 0 ? s.dim('(the image default)') : cell(JSON.stringify(t.command), 300)],
          ['runtime', t.runtime],
          ['resources', formatResources(t.resources)],
          ['priority', String(t.priority)],
          ['queue', `${t.queue}${t.pinnedWorkerId ? `, pinned to worker ${t.pinnedWorkerId}` : ''}`],
          ['retries', `${t.retriesUsed} of ${t.maxRetries} used${retryPolicyLine(t)}`],
          ['timeout', t.timeoutSeconds ? `${t.timeoutSeconds}s` : 'none'],
          ['deadlines', deadlinesLine(t)],
          ['container', containerSettings(t)],
          ['env', cell(Object.keys(t.env).join(', ') || '-', 200)],
          ['labels', cell(formatMap(t.labels), 200)],
          ['owner', t.userId],
          ['worker', t.workerId ?? '-'],
          ['created', isoTime(t.createdAt)],
          ['started', isoTime(t.startedAt)],
          ['finished', isoTime(t.finishedAt)],
          ['exit code', t.exitCode === undefined ? '-' : String(t.exitCode)],
        );
        // what the worker applied to the latest attempt that started
        const effective = [...t.attempts].reverse().find((a) => a.effective)?.effective;
        if (effective) pairs.push(['applied', cell(appliedSettings(effective), 300)]);
        const parts = [fields(pairs, s)];
        if (t.attempts.length > 0) {
          parts.push(
            '',
            s.bold('Attempts'),
            table(
              ['#', 'ID', 'WORKER', 'STATUS', 'EXIT', 'GPU', 'STARTED', 'FINISHED', 'ERROR'],
              t.attempts.map((a) => [
                String(a.number),
                a.id.slice(0, 8),
                a.workerId.slice(0, 8),
                s.status(a.status),
                a.exitCode === undefined ? '-' : String(a.exitCode),
                a.gpuIds?.join(',') ?? '-',
                isoTime(a.startedAt),
                isoTime(a.finishedAt),
                cell([a.error, a.logChunksMissing ? `${a.logChunksMissing} log chunks missing` : ''].filter((part) => part).join('; '), 80),
              ]),
              s,
            ),
          );
        }
        if (t.files.length > 0) {
          parts.push('', s.bold('Files'), table(['PATH', 'SIZE', 'SHA256'], t.files.map((f) => [cell(f.path, 120), formatBytes(f.size), f.sha256.slice(0, 16)]), s));
        }
        if (t.events.length > 0) {
          parts.push('', s.bold('Events'), table(['AT', 'EVENT', 'MESSAGE'], t.events.map((e) => [isoTime(e.at), e.kind, cell(e.message, 120)]), s));
        }
        ctx.print(parts.join('\n'));
      },
    },
    {
      name: 'logs',
      usage: 'logs <id> [-f]',
      summary: "a task's log; -f follows it until the task ends (Ctrl-C stops following)",
      args: ['task'],
      flags: ['-f', '--follow'],
      async run(ctx, args) {
        const follow = args.some((a) => a === '-f' || a === '--follow');
        const rest = args.filter((a) => a !== '-f' && a !== '--follow');
        const unknown = rest.find((a) => a.startsWith('-'));
        if (unknown) throw usageError(this, `unknown option ${unknown}`);
        expectArgs(this, rest, 1, 1);
        await printLogs(ctx, await ctx.ids.taskId(rest[0]!), follow);
      },
    },
    {
      name: 'cancel',
      audit: () => 'task.cancel',
      usage: 'cancel <id>',
      summary: 'cancel a task that has not finished (its container is stopped)',
      args: ['task'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        const id = await ctx.ids.taskId(args[0]!);
        ctx.auditObject(`task:${id}`);
        const before = await ctx.services.tasks.visibleTask(ctx.admin, id);
        const task = await ctx.services.tasks.cancel(ctx.admin, id);
        const where = before.workerId ? `; worker ${before.workerId.slice(0, 8)} is told to stop it` : '';
        ctx.print(`cancelled ${task.id} (${cell(task.name, 60)}), was ${before.status}${where}`);
      },
    },
    {
      name: 'queue',
      usage: 'queue [--limit N]',
      summary: 'queued tasks in dispatch order and why each one waits (50 unless --limit)',
      args: [],
      flags: ['--limit'],
      run(ctx, args) {
        const { rest, limit } = takeLimit(this, args, 50, 10_000);
        expectArgs(this, rest, 0, 0);
        const queue = queueTable(ctx, limit);
        if (queue.total === 0) {
          ctx.print(ctx.style.dim('the queue is empty'));
          return;
        }
        ctx.print(queue.text);
        ctx.print(ctx.style.dim(queue.shown < queue.total ? `${queue.shown} of ${queue.total} queued shown (queue --limit N)` : `${queue.total} queued`));
      },
    },
    {
      name: 'dead-letters',
      usage: 'dead-letters [ls] [--image I] [--name N] [--limit N] | dead-letters requeue|dismiss <task>... | dead-letters requeue|dismiss --all [--image I] [--name N]',
      summary: 'tasks that failed with no retry left: list, re-queue (same task, retries reset) or dismiss',
      details: [
        'dead-letters [ls]        the dead letters, newest first, with their attempts and last error',
        '                         (--image, --name: only those; --limit N, 50 unless given, up to 500)',
        'dead-letters requeue <task>...  back to the queue as the same task: new attempts, retries',
        '                         reset to 0 (a deadline already passed is dropped)',
        'dead-letters dismiss <task>...  out of the dead letters; the task stays failed',
        '--all [--image I] [--name N]  instead of ids: every dead letter (of that image or name), up to 1000 a call',
        'A dead letter is a task that failed through its retry policy: no retry left, or an ending its',
        'retryOn does not name. Cancelled tasks, tasks past a deadline and DAG tasks are not.',
      ].join('\n'),
      args: ['deadLetter', 'deadLetter', 'deadLetter', 'deadLetter', 'deadLetter', 'deadLetter', 'deadLetter', 'deadLetter'],
      flags: ['--all', '--image', '--name', '--limit'],
      // one task id: that task's action (its object named below); --all or several: the bulk one
      audit: (args) =>
        args[0] === 'requeue' || args[0] === 'dismiss'
          ? `dead-letter.${args[0]}${args.includes('--all') || args.length !== 2 ? '-bulk' : ''}`
          : undefined,
      async run(ctx, args) {
        const words = args[0] === 'ls' || args[0] === 'requeue' || args[0] === 'dismiss' ? args.slice(1) : args;
        const action = args[0] === 'requeue' || args[0] === 'dismiss' ? args[0] : 'ls';
        const filter: { image?: string; name?: string } = {};
        let all = false;
        const rest: string[] = [];
        for (let i = 0; i < words.length; i += 1) {
          const word = words[i]!;
          if (word === '--image' || word === '--name') {
            const value = words[++i];
            if (value === undefined) throw usageError(this, `${word} needs a value`);
            filter[word === '--image' ? 'image' : 'name'] = value;
          } else if (word === '--all') {
            all = true;
          } else {
            rest.push(word);
          }
        }
        const { tasks } = ctx.services;
        if (action === 'ls') {
          if (all) throw usageError(this, '--all goes with requeue or dismiss');
          const { rest: none, limit } = takeLimit(this, rest, 50, 500);
          expectArgs(this, none, 0, 0);
          const page = await tasks.listDeadLetters(ctx.admin, { ...filter, limit });
          if (page.deadLetters.length === 0) {
            ctx.print(ctx.style.dim('no dead letters'));
            return;
          }
          const idLength = distinctPrefixLength(page.deadLetters.map((d) => d.task.id));
          const now = ctx.now();
          ctx.print(
            table(
              ['ID', 'NAME', 'IMAGE', 'OWNER', 'FAILED', 'ATTEMPTS', 'RETRIES', 'LAST ERROR'],
              page.deadLetters.map(({ task: t, attempts, lastError }) => [
                t.id.slice(0, idLength),
                cell(t.name, 30),
                cell(t.image || `(${t.runtime})`, 40),
                cell(t.userId, 12),
                ago(t.deadLetteredAt ?? t.finishedAt ?? t.createdAt, now),
                String(attempts.length),
                `${t.retriesUsed}/${t.maxRetries}`,
                cell(lastError ?? t.reason ?? '-', 80),
              ]),
              ctx.style,
            ),
          );
          if (page.nextCursor) ctx.print(ctx.style.dim(`showing the newest ${page.deadLetters.length}; more exist (dead-letters --limit 500)`));
          return;
        }
        if (all && rest.length > 0) throw usageError(this, 'give task ids or --all, not both');
        if (!all && rest.length === 0) throw usageError(this, `${action} which? give task ids or --all`);
        if (!all && (filter.image !== undefined || filter.name !== undefined)) throw usageError(this, '--image and --name go with --all');
        const taskIds = all ? [] : await Promise.all(rest.map((id) => ctx.ids.taskId(id)));
        if (taskIds.length === 1) ctx.auditObject(`task:${taskIds[0]!}`);
        const selection = all ? { filter } : { taskIds };
        const answer = action === 'requeue' ? await tasks.requeueDeadLetters(ctx.admin, selection) : await tasks.dismissDeadLetters(ctx.admin, selection);
        const verb = action === 'requeue' ? 're-queued' : 'dismissed';
        ctx.print(`${verb} ${answer.done.length} task${answer.done.length === 1 ? '' : 's'}${answer.done.length > 0 && answer.done.length <= 10 ? `: ${answer.done.map((id) => id.slice(0, 8)).join(', ')}` : ''}`);
        for (const skipped of answer.skipped) ctx.print(ctx.style.dim(`skipped ${skipped.taskId.slice(0, 8)}: ${skipped.message}`));
        if (answer.more) ctx.print(ctx.style.dim(`more match: run it again for the next ${MAX_BULK}`));
      },
    },
    {
      name: 'queues',
      usage: 'queues [show <name> | create <name> key=value… | set <name> key=value… | rm <name> | limit <user> [queue=<name>] key=value… | unlimit <user> [queue=<name>]]',
      summary: 'the queues with usage against their limits; create, change or delete one; set user limits',
      details: [
        'queues                      every queue: queued, running/maxConcurrency, cpu, memory, gpus and tasks against their caps',
        'queues show <name>          one queue, with each user\'s queued and running tasks, dominant share and weight',
        'queues create <name> k=v…   maxConcurrency, maxTasks, maxCpu, maxMemory (e.g. 64Gi), maxGpus, defaultPriority,',
        '                            preemptionPolicy (Never|PreemptLowerPriority), strategy (round-robin|binpack|spread),',
        '                            description, selector.<label>=<value>, constraint=<label>:<in|notIn|exists|notExists>[:a,b]',
        'queues set <name> k=v…      the same; k=null removes a cap',
        'queues rm <name>            refused while the queue holds queued or running tasks, and for default',
        'queues limit <user> [queue=<name>] k=v…   a user\'s (id or email) maxRunning, maxCpu, maxMemory, maxGpus, weight,',
        '                            in one queue or across all; queues unlimit <user> [queue=<name>] removes them',
      ].join('\n'),
      args: ['queueAction', 'queue'],
      audit: (args) =>
        ({ create: 'queue.create', set: 'queue.update', rm: 'queue.delete', limit: 'user-limit.set', unlimit: 'user-limit.delete' })[args[0] ?? ''],
      async run(ctx, args) {
        const queues = ctx.services.queues;
        const [action, name, ...rest] = args;
        if (name !== undefined && ['create', 'set', 'rm'].includes(action ?? '')) ctx.auditObject(`queue:${name}`);
        if (action === undefined) {
          ctx.print(queuesTable(ctx, queues.list()));
          return;
        }
        if (name === undefined) throw usageError(this, `${cell(action, 20)} needs a name`);
        switch (action) {
          case 'show': {
            expectArgs(this, rest, 0, 0);
            const found = queues.get(name);
            ctx.print(queuesTable(ctx, [found]));
            const users = found.status.users;
            if (users.length === 0) ctx.print(ctx.style.dim('no user has tasks in this queue'));
            else {
              ctx.print(
                table(
                  ['USER', 'QUEUED', 'RUNNING', 'CPU', 'MEMORY', 'GPU', 'SHARE', 'WEIGHT'],
                  users.map((u) => [cell(u.user, 40), String(u.queued), String(u.running), formatCpu(u.cpu), formatBytes(u.memory), String(u.gpu), `${(u.share * 100).toFixed(1)}%`, String(u.weight)]),
                  ctx.style,
                ),
              );
            }
            return;
          }
          case 'create': {
            const created = await queues.create(parseBody(createQueueSchema, { name, ...keyValues(this, rest) }));
            ctx.print(`queue ${created.queue.name} created`);
            ctx.print(queuesTable(ctx, [created]));
            return;
          }
          case 'set': {
            if (rest.length === 0) throw usageError(this, 'set needs key=value');
            const changed = await queues.update(name, parseBody(patchQueueSchema, keyValues(this, rest)));
            ctx.print(queuesTable(ctx, [changed]));
            return;
          }
          case 'rm':
            expectArgs(this, rest, 0, 0);
            await queues.remove(name);
            ctx.print(`queue ${name} deleted`);
            return;
          case 'limit':
          case 'unlimit': {
            const body = keyValues(this, rest);
            const queue = typeof body.queue === 'string' ? body.queue : undefined;
            delete body.queue;
            const userId = await queues.resolveUser(name);
            ctx.auditObject(`user:${userId}`);
            const where = queue === undefined ? 'across all queues' : `in queue ${queue}`;
            if (action === 'unlimit') {
              if (Object.keys(body).length > 0) throw usageError(this, 'unlimit takes only queue=<name>');
              await queues.deleteUserLimit(userId, queue);
              ctx.print(`limits of ${cell(name, 60)} ${where} removed`);
              return;
            }
            const limit = await queues.putUserLimit(userId, queue, parseBody(userLimitSchema, body));
            const shown = (['maxRunning', 'maxCpu', 'maxMemory', 'maxGpus', 'weight'] as const).filter((k) => limit[k] !== undefined).map((k) => `${k}=${k === 'maxMemory' ? formatBytes(limit[k]!) : String(limit[k])}`);
            ctx.print(`limits of ${cell(name, 60)} ${where}: ${shown.join(' ') || 'none (weight 1)'}`);
            return;
          }
          default:
            throw usageError(this, `unknown action "${cell(action, 40)}"`);
        }
      },
    },
    {
      name: 'drain',
      audit: () => 'worker.drain',
      usage: 'drain <worker>',
      summary: 'stop placing new tasks on a worker; what it runs finishes (undo: activate)',
      args: ['worker'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        await setDraining(ctx, args[0]!, true);
      },
    },
    {
      name: 'activate',
      audit: () => 'worker.activate',
      usage: 'activate <worker>',
      summary: 'undo drain: the worker takes new tasks again',
      args: ['worker'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        await setDraining(ctx, args[0]!, false);
      },
    },
    {
      name: 'files',
      usage: 'files <task>',
      summary: 'the output files of a task, with sizes and sha256',
      args: ['task'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        const id = await ctx.ids.taskId(args[0]!);
        const task = await ctx.services.tasks.visibleTask(ctx.admin, id);
        const files = await ctx.services.tasks.listFiles(ctx.admin, task.id);
        if (files.length === 0) {
          ctx.print(ctx.style.dim(`task ${task.id.slice(0, 8)} has no output files (it is ${task.status})`));
          return;
        }
        ctx.print(table(['PATH', 'SIZE', 'SHA256', 'CREATED'], files.map((f) => [cell(f.path, 120), formatBytes(f.size), f.sha256, isoTime(f.createdAt)]), ctx.style));
        ctx.print(ctx.style.dim(`${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(files.reduce((n, f) => n + f.size, 0))}`));
      },
    },
    {
      name: 'download',
      usage: 'download <task> [dir]',
      summary: "save a task's output files into dir (default ./<task id>), checked by sha256",
      details: 'Files keep their paths under dir; a file already there is replaced.',
      args: ['task', 'none'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 2);
        const id = await ctx.ids.taskId(args[0]!);
        const task = await ctx.services.tasks.visibleTask(ctx.admin, id);
        const files = await ctx.services.tasks.listFiles(ctx.admin, task.id);
        if (files.length === 0) {
          ctx.print(ctx.style.dim(`task ${task.id.slice(0, 8)} has no output files (it is ${task.status}); nothing saved`));
          return;
        }
        const dir = resolve(ctx.cwd, args[1] ?? task.id);
        let bytes = 0;
        for (const file of files) {
          const target = join(dir, ...file.path.split('/'));
          const replaced = existsSync(target);
          try {
            await saveFile(ctx.services.files, task, file, target);
          } catch (error: unknown) {
            if (error instanceof WharfError) throw error;
            // the operator's disk said no (a file where a folder should be, no permission...)
            const why = error instanceof Error ? error.message : String(error);
            throw new WharfError('validation_failed', `download: cannot save ${file.path} into ${dir}: ${why}`);
          }
          bytes += file.size;
          ctx.print(`  ${target}  ${formatBytes(file.size)}${replaced ? ctx.style.dim(' (replaced)') : ''}`);
        }
        ctx.print(`saved ${files.length} file${files.length === 1 ? '' : 's'} (${formatBytes(bytes)}) to ${dir}`);
      },
    },
    {
      name: 'dags',
      usage: 'dags [name] [--limit N]',
      summary: 'DAG runs, newest first (50 unless --limit, up to 500), optionally of one DAG name',
      details: [
        'Columns: the run id (a prefix you can type back), the DAG name, the run status, tasks that ended',
        'of all tasks, the cache outcome of its inputs (Hit, Partial, Miss, N/A as in dag-metrics; off',
        'when the file said useCache: false), when it started and how long it took (or has run so far).',
      ].join('\n'),
      args: ['dagName'],
      flags: ['--limit'],
      async run(ctx, args) {
        const { rest, limit } = takeLimit(this, args, 50, 500);
        expectArgs(this, rest, 0, 1);
        const name = rest[0];
        if (name !== undefined && !DAG_NAME_PATTERN.test(name)) throw usageError(this, `"${cell(name, 70)}" is not a DAG name`);
        const runs = await ctx.services.dags.list(ctx.admin, { limit, name });
        if (runs.length === 0) {
          ctx.print(ctx.style.dim(name ? `no runs of DAG ${name}` : 'no DAG runs yet (dag submit <file>)'));
          return;
        }
        // each run's cache outcome, from the same metrics as dag-metrics (one query per name:
        // these runs are the newest of their name, so the newest `count` of that name hold them)
        const perName = new Map<string, number>();
        for (const run of runs) perName.set(run.name, (perName.get(run.name) ?? 0) + 1);
        const cache = new Map<string, string>();
        for (const [dagName, count] of perName) {
          for (const m of await ctx.services.dags.metrics(ctx.admin, dagName, count)) cache.set(m.dagId, m.cacheHit);
        }
        ctx.print(dagRunsTable(runs, cache, ctx.style, ctx.now()));
        if (runs.length === limit) ctx.print(ctx.style.dim(`showing the newest ${runs.length}; more may exist (dags --limit 500)`));
      },
    },
    {
      name: 'dag',
      audit: (args) => (args[0] === 'submit' ? 'dag.submit' : args[0] === 'retry' ? 'dag.retry' : args[0] === 'rerun' ? 'dag.rerun' : undefined),
      usage: 'dag <id> | dag submit <file> | dag retry <id> | dag rerun <id>',
      summary: 'one DAG run in detail (tasks in order, workers, attempts, exit codes, inputs hit or miss); dag submit <file> runs a DAG file; dag retry / rerun <id> make a new run from an ended one',
      details: [
        'dag <id>         the run: each task in dependency order with its status, Wharf task id, worker,',
        '                 attempts and exit code; each input with where it came from, whether the worker',
        '                 served it from its cache (hit) or downloaded it (miss), and its size in bytes.',
        'dag submit <file>  reads a DAG file (YAML or JSON; .json is read as JSON, .yaml/.yml as YAML,',
        '                 otherwise JSON when it starts with "{") from the master\'s disk, relative to the',
        '                 directory the master was started in, and submits it as the admin, checked exactly',
        '                 like POST /api/dags. The format is in docs/DAGS.md; a minimal file:',
        '                   dagName: hello',
        '                   tasks:',
        '                     - {name: make, image: wharf/busybox, command: [sh, -c, "echo hi > /output/a.txt"], outputs: [a.txt]}',
        '                     - {name: read, image: wharf/busybox, command: [cat, /input/a.txt], depends_on: [make],',
        '                        inputs: [{fromTask: make, name: a.txt}]}',
        'dag retry <id>   a new run from an ended (failed or cancelled) run: the tasks that succeeded are',
        '                 reused with their outputs, not run again; the others run again (POST /api/dags/:id/retry).',
        'dag rerun <id>   a new run of the same file, nothing reused (POST /api/dags/:id/rerun).',
        'Each DAG task is an ordinary task too: task, logs and files work on its task id.',
      ].join('\n'),
      args: ['dag', 'file'],
      async run(ctx, args) {
        if (args[0] === 'submit') {
          if (args.length < 2) throw usageError(this, 'submit needs a DAG file (YAML or JSON)');
          if (args.length > 2) throw usageError(this, `unexpected "${cell(args[2], 70)}"`);
          await submitDagFile(ctx, args[1]!);
          return;
        }
        if (args[0] === 'retry' || args[0] === 'rerun') {
          const kind = args[0];
          if (args.length !== 2) throw usageError(this, `${kind} needs one DAG run id`);
          const from = await ctx.ids.dagId(args[1]!);
          ctx.auditObject(`dag:${from}`);
          const run = kind === 'retry' ? await ctx.services.dags.retry(ctx.admin, from) : await ctx.services.dags.rerun(ctx.admin, from);
          const reused = run.tasks.filter((t) => t.reusedFrom !== undefined).length;
          ctx.print(
            `DAG run ${ctx.style.bold(run.id)} (${cell(run.name, 63)}) ${kind === 'retry' ? `retries ${from.slice(0, 8)}: ${reused} reused, ${run.tasks.length - reused} to run again` : `re-runs ${from.slice(0, 8)}`}` +
              ctx.style.dim(`  (dag ${run.id.slice(0, 8)} shows it)`),
          );
          return;
        }
        expectArgs(this, args, 1, 1);
        const details = await ctx.services.dags.get(ctx.admin, await ctx.ids.dagId(args[0]!));
        ctx.print(dagDetailsView(details, ctx.style, ctx.now()));
      },
    },
    {
      name: 'gangs',
      usage: 'gangs [--limit N]',
      summary: 'gangs (member tasks placed all-or-nothing), newest first (50 unless --limit, up to 500)',
      details: [
        'Columns: the gang id (a prefix you can type back), its name, status (pending: waiting to be placed',
        'all together; running; succeeded, failed, cancelled), size, policy when a member fails or is lost',
        '(restartGang, failGang), restarts used of its maxRestarts, when it was submitted, and why it waits',
        'or how it ended. Gangs are submitted with POST /api/gangs (docs/API.md, "Gangs").',
      ].join('\n'),
      args: [],
      flags: ['--limit'],
      async run(ctx, args) {
        const { rest, limit } = takeLimit(this, args, 50, 500);
        expectArgs(this, rest, 0, 0);
        const gangs = (await ctx.services.gangs?.list(ctx.admin, { limit })) ?? [];
        if (gangs.length === 0) {
          ctx.print(ctx.style.dim('no gangs yet (POST /api/gangs)'));
          return;
        }
        ctx.print(gangsTable(gangs, ctx.style, ctx.now()));
        if (gangs.length === limit) ctx.print(ctx.style.dim(`showing the newest ${gangs.length}; more may exist (gangs --limit 500)`));
      },
    },
    {
      name: 'gang',
      audit: (args) => (args[0] === 'cancel' ? 'gang.cancel' : undefined),
      usage: 'gang <id> | gang cancel <id>',
      summary: 'one gang with its members together (rank, task, status, worker, reason); gang cancel <id> cancels every member',
      details: [
        'gang <id>         the gang: status, policy and restarts, its ports, why it waits or how it ended;',
        '                  then its members in rank order with their task id, status, worker and reason.',
        'gang cancel <id>  cancels the gang as DELETE /api/gangs/:id: every member that still lives is',
        '                  cancelled (running ones stopped with the cancel grace).',
        'Each member is an ordinary task too: task, logs and files work on its task id.',
      ].join('\n'),
      args: ['gang', 'gang'],
      async run(ctx, args) {
        const gangs = ctx.services.gangs;
        if (!gangs) throw new WharfError('not_found', 'this master has no gangs');
        if (args[0] === 'cancel') {
          expectArgs(this, args, 2, 2);
          const id = await ctx.ids.gangId(args[1]!);
          ctx.auditObject(`gang:${id}`);
          const cancelled = await gangs.cancel(ctx.admin, id);
          ctx.print(gangDetailsView(cancelled, ctx.style));
          return;
        }
        expectArgs(this, args, 1, 1);
        ctx.print(gangDetailsView(await gangs.get(ctx.admin, await ctx.ids.gangId(args[0]!)), ctx.style));
      },
    },
    {
      name: 'dag-metrics',
      usage: 'dag-metrics <name> [--limit N]',
      summary: `the runs of a DAG newest first with their metrics, and cached vs uncached average duration (${DEFAULT_METRICS_LIMIT} unless --limit)`,
      details: [
        'The same records as GET /api/dags/:name/metrics (definitions in docs/DAGS.md):',
        '  CACHE       Hit: every input staged from a worker cache; Partial: some; Miss: none;',
        '              N/A: the cache was off or no input was staged',
        '  HIT TASKS   tasks whose inputs all came from cache; MISS TASKS: tasks that downloaded one',
        '  BYTES FROM CACHE / BYTES DOWNLOADED   input bytes served from cache / moved over the network',
        'The last line compares the average duration of ended runs with cacheHit Hit or Partial',
        '(cached) and Miss or N/A (uncached); running runs are not counted.',
      ].join('\n'),
      args: ['dagName'],
      flags: ['--limit'],
      async run(ctx, args) {
        const { rest, limit } = takeLimit(this, args, DEFAULT_METRICS_LIMIT, MAX_METRICS_LIMIT);
        expectArgs(this, rest, 1, 1);
        const name = rest[0]!;
        if (!DAG_NAME_PATTERN.test(name)) throw usageError(this, `"${cell(name, 70)}" is not a DAG name`);
        const runs = await ctx.services.dags.metrics(ctx.admin, name, limit);
        if (runs.length === 0) {
          ctx.print(ctx.style.dim(`no runs of DAG ${name}`));
          return;
        }
        ctx.print(dagMetricsTable(runs, ctx.style));
        ctx.print(cacheSummaryLine(runs));
      },
    },
    {
      name: 'users',
      usage: 'users',
      summary: 'the accounts: email, role, disabled or not (GET /api/users)',
      args: [],
      async run(ctx, args) {
        expectArgs(this, args, 0, 0);
        const users = await ctx.services.users.list();
        ctx.print(
          table(
            ['EMAIL', 'NAME', 'ROLE', 'STATE', 'CREATED', 'ID'],
            users.map((u) => [cell(u.email, 80), cell(u.name, 40), u.role, u.disabled ? ctx.style.status('disabled') : 'enabled', isoTime(u.createdAt), u.id]),
            ctx.style,
          ),
        );
      },
    },
    {
      name: 'user',
      usage: 'user disable|enable <user> | user role <user> admin|user | user quota <user> <bytes>|default | user delete <user> --yes',
      summary: 'disable, enable or delete an account, change its role or its storage quota (PATCH/DELETE /api/users/:id)',
      details: [
        '<user> is an email address or an id (or a unique start of one).',
        'disable  the account cannot log in and every token of it stops at once (open WebSockets and',
        '         log streams are closed); enable undoes it (the person logs in again).',
        'role     admin or user; the person\'s login tokens stop at once (they log in again); their',
        '         API tokens go on with the new role.',
        'delete   cancels the account\'s unfinished tasks and DAG runs, revokes its API tokens and removes',
        '         it; its tasks, logs, files and audit entries are kept. Needs --yes.',
        'quota    the bytes of logs, outputs and artifacts the account may keep before its submissions',
        '         are refused (10Gi, 500Mi, or bytes); default = back to WHARF_USER_STORAGE_QUOTA.',
        'The last enabled admin cannot be demoted, disabled or deleted.',
      ].join('\n'),
      args: ['none', 'none', 'none'],
      flags: ['--yes'],
      audit: (args) =>
        args[0] === 'disable' || args[0] === 'enable' || args[0] === 'delete' || args[0] === 'quota'
          ? `user.${args[0]}`
          : args[0] === 'role'
            ? `user.role.${args[2] ?? ''}`
            : undefined,
      async run(ctx, args) {
        const [action, who, ...rest] = args;
        if (action === undefined || !['disable', 'enable', 'role', 'delete', 'quota'].includes(action)) {
          throw usageError(this, action === undefined ? 'disable, enable, role, quota or delete?' : `unknown action "${cell(action, 40)}"`);
        }
        if (who === undefined) throw usageError(this, 'which user? (an email or an id)');
        const user = await resolveUser(ctx, who);
        ctx.auditObject(`user:${user.id}`);
        const name = `${user.email} (${user.id.slice(0, 8)})`;
        if (action === 'role') {
          const role = rest[0];
          if (rest.length !== 1 || (role !== 'admin' && role !== 'user')) throw usageError(this, 'role takes admin or user');
          const updated = await ctx.services.users.update(ctx.admin, user.id, { role });
          ctx.print(updated.role === user.role ? `${name} is already ${role}` : `${name} is now ${role}; their login tokens stopped working (they log in again)`);
          return;
        }
        if (action === 'quota') {
          const given = rest[0];
          const bytes = given === 'default' ? null : given === undefined ? undefined : parseBytes(given);
          if (rest.length !== 1 || bytes === undefined) throw usageError(this, 'quota takes a size such as 10Gi, or default');
          const updated = await ctx.services.users.update(ctx.admin, user.id, { storageQuotaBytes: bytes });
          const limit = ctx.services.usage.quotaOf(updated);
          ctx.print(
            `${name}: storage quota ${limit === undefined ? 'none' : formatBytes(limit)}${updated.storageQuotaBytes === undefined ? ' (the master-wide WHARF_USER_STORAGE_QUOTA)' : ''}`,
          );
          return;
        }
        if (action === 'delete') {
          if (rest.length !== 1 || rest[0] !== '--yes') {
            throw usageError(this, `deleting ${user.email} cancels their unfinished tasks and DAG runs and revokes their API tokens; repeat with --yes`);
          }
          const result = await ctx.services.users.delete(ctx.admin, user.id);
          ctx.print(
            `${name} is deleted: ${result.cancelled.tasks} unfinished task${result.cancelled.tasks === 1 ? '' : 's'} and ${result.cancelled.dags} DAG run${result.cancelled.dags === 1 ? '' : 's'} cancelled, ${result.apiTokens} API token${result.apiTokens === 1 ? '' : 's'} revoked; their records are kept`,
          );
          return;
        }
        expectArgs(this, rest, 0, 0);
        await ctx.services.users.update(ctx.admin, user.id, { disabled: action === 'disable' });
        ctx.print(action === 'disable' ? `${name} is disabled: no login, and every token of it stopped working` : `${name} is enabled: they can log in again`);
      },
    },
    {
      name: 'invite',
      usage: 'invite <email> [--role admin|user] [--expires 7d] | invite revoke <id>',
      summary: 'invite an address to register (its one-time code and link are shown once), or revoke an invite',
      details: [
        'The code registers that address once, with the role, before it expires (7d unless --expires,',
        'at most 90d). Share the link privately: whoever holds it can register the address.',
      ].join('\n'),
      args: ['none', 'none'],
      flags: ['--role', '--expires'],
      audit: (args) => (args[0] === 'revoke' ? 'invite.revoke' : 'invite.create'),
      async run(ctx, args) {
        if (args[0] === 'revoke') {
          expectArgs(this, args, 2, 2);
          ctx.auditObject(`invite:${args[1]!}`);
          const invite = await ctx.services.auth.invites.revoke(args[1]!);
          ctx.print(`the invite for ${invite.email} is revoked`);
          return;
        }
        let role: 'admin' | 'user' = 'user';
        let expiresInMs = DEFAULT_INVITE_LIFETIME_MS;
        const words: string[] = [];
        for (let i = 0; i < args.length; i += 1) {
          const word = args[i]!;
          const [flag, inline] = word.startsWith('--') ? (word.split(/=(.*)/s, 2) as [string, string | undefined]) : [word, undefined];
          if (flag === '--role') {
            const value = inline ?? args[++i];
            if (value !== 'admin' && value !== 'user') throw usageError(this, '--role takes admin or user');
            role = value;
          } else if (flag === '--expires') {
            const value = inline ?? args[++i];
            const ms = value === undefined ? undefined : parseDurationMs(value);
            if (ms === undefined || ms < 60_000 || ms > MAX_INVITE_LIFETIME_MS) throw usageError(this, `--expires takes a duration from 1m to 90d such as 7d`);
            expiresInMs = ms;
          } else if (word.startsWith('-')) {
            throw usageError(this, `unknown option ${cell(word, 40)}`);
          } else {
            words.push(word);
          }
        }
        if (words.length !== 1 || !/^[^\s@]+@[^\s@]+$/.test(words[0]!)) throw usageError(this, 'needs one email address');
        const { invite, code } = await ctx.services.auth.invites.create(undefined, { email: words[0]!, role, expiresInMs });
        ctx.auditObject(`invite:${invite.id}`);
        ctx.print(
          fields(
            [
              ['email', invite.email],
              ['role', invite.role],
              ['expires', isoTime(invite.expiresAt)],
              ['code', ctx.style.bold(code)],
              ['link', `${ctx.services.httpUrl}/register?invite=${encodeURIComponent(code)}`],
            ],
            ctx.style,
          ),
        );
        ctx.print(ctx.style.dim('the code is shown this once; send the link to the person privately'));
      },
    },
    {
      name: 'invites',
      usage: 'invites',
      summary: 'the invites: address, role, state (open, used, revoked, expired), expiry',
      args: [],
      async run(ctx, args) {
        expectArgs(this, args, 0, 0);
        const now = ctx.now();
        const invites = await ctx.services.auth.invites.list();
        if (invites.length === 0) {
          ctx.print(ctx.style.dim('no invites yet (invite <email> makes one)'));
          return;
        }
        ctx.print(table(['ID', 'EMAIL', 'ROLE', 'STATE', 'EXPIRES'], invites.map((i) => [i.id, cell(i.email, 80), i.role, inviteState(i, now), isoTime(i.expiresAt)]), ctx.style));
      },
    },
    {
      name: 'audit',
      usage: 'audit [--user U] [--action A] [--since T] [--until T] [--limit N]',
      summary: 'the audit trail, newest first: who changed what, from where, and how it went (GET /api/audit)',
      details: [
        '--user     an email or a user id      --action  e.g. task.submit, user.delete, auth.login',
        '--since/--until  an ISO time or a duration back from now (30m, 24h, 7d)   --limit  1-1000 (50)',
        'The console\'s own changes are recorded as the admin, from "console".',
      ].join('\n'),
      args: [],
      flags: ['--user', '--action', '--since', '--until', '--limit'],
      async run(ctx, args) {
        const options: Record<string, string> = {};
        for (let i = 0; i < args.length; i += 1) {
          const word = args[i]!;
          const [flag, inline] = word.split(/=(.*)/s, 2) as [string, string | undefined];
          if (!['--user', '--action', '--since', '--until', '--limit'].includes(flag)) throw usageError(this, `unknown option ${cell(word, 40)}`);
          const value = inline ?? args[++i];
          if (value === undefined) throw usageError(this, `${flag} needs a value`);
          options[flag.slice(2)] = value;
        }
        const limit = options.limit === undefined ? 50 : Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usageError(this, '--limit takes a whole number 1-1000');
        const now = ctx.now();
        let userId = options.user;
        if (userId !== undefined && userId.includes('@')) userId = (await ctx.services.users.list()).find((u) => u.email === userId!.toLowerCase())?.id ?? `unknown:${userId}`;
        const page = await ctx.services.audit.list({
          userId,
          action: options.action,
          since: options.since === undefined ? undefined : parseAuditTime(options.since, '--since', now),
          until: options.until === undefined ? undefined : parseAuditTime(options.until, '--until', now),
          limit,
        });
        if (page.entries.length === 0) {
          ctx.print(ctx.style.dim('no audit entries match'));
          return;
        }
        ctx.print(
          table(
            ['AT', 'WHO', 'FROM', 'ACTION', 'OBJECT', 'OUTCOME'],
            page.entries.map((e) => [isoTime(e.at), cell(e.userEmail ?? e.userId ?? '-', 40), cell(e.address, 40), e.action, cell(e.object ?? '', 60), e.outcome]),
            ctx.style,
          ),
        );
        if (page.nextCursor) ctx.print(ctx.style.dim(`more entries match; narrow with --since/--until or raise --limit`));
      },
    },
    {
      name: 'gc',
      usage: 'gc [--dry-run]',
      summary: 'run the garbage collector now: retention by age and count (POST /api/admin/gc)',
      details: [
        'Removes finished tasks, DAG runs, logs, output files, unreferenced artifacts and idle telemetry',
        'past the WHARF_RETAIN_* settings (docs/OPERATIONS.md), and prints what it removed and the bytes',
        'freed. --dry-run removes nothing and prints what a run would remove.',
      ].join('\n'),
      args: [],
      flags: ['--dry-run'],
      audit: (args) => (args.includes('--dry-run') ? undefined : 'gc.run'),
      async run(ctx, args) {
        for (const word of args) if (word !== '--dry-run') throw usageError(this, `unknown option ${cell(word, 40)}`);
        const dryRun = args.includes('--dry-run');
        const report = await ctx.services.gc.run({ dryRun });
        const r = report.removed;
        ctx.print(
          `${dryRun ? 'would remove' : 'removed'}: ${r.tasks} tasks (${r.events} events), ${r.dagRuns} DAG runs, ${r.logs} logs, ${r.files} output files, ${r.artifacts} artifacts, ${r.telemetry} telemetry histories; ${formatBytes(report.bytesFreed)} ${dryRun ? 'would be ' : ''}freed in ${report.durationMs} ms`,
        );
      },
    },
    {
      name: 'usage',
      usage: 'usage [user]',
      summary: 'bytes of logs, outputs and artifacts each user keeps, with their quota (GET /api/usage)',
      args: ['none'],
      async run(ctx, args) {
        expectArgs(this, args, 0, 1);
        const measure = await ctx.services.usage.current();
        const users = args[0] === undefined ? await ctx.services.users.list() : [await resolveUser(ctx, args[0])];
        const rows = users.map((user) => {
          const u = StorageUsage.of(measure, user.id);
          const quota = ctx.services.usage.quotaOf(user);
          return [cell(user.email, 40), formatBytes(u.logBytes), formatBytes(u.outputBytes), formatBytes(u.artifactBytes), formatBytes(u.totalBytes), quota === undefined ? '-' : formatBytes(quota)];
        });
        ctx.print(table(['USER', 'LOGS', 'OUTPUTS', 'ARTIFACTS', 'TOTAL', 'QUOTA'], rows, ctx.style));
        ctx.print(ctx.style.dim(`measured ${isoTime(measure.measuredAt)}`));
      },
    },
    {
      name: 'token',
      usage: 'token',
      summary: 'the start join token, the CA hash and the lines that join a worker',
      args: [],
      async run(ctx, args) {
        expectArgs(this, args, 0, 0);
        const { joinToken, grpcAddress, caHash } = ctx.services;
        const oneLine = await ctx.services.oneLineJoinFor?.(joinToken);
        ctx.print(
          fields(
            [
              ['join token', joinToken],
              ['ca hash', caHash],
              ['join a worker', `./runWorker.sh --master ${grpcAddress} --token-file <file holding the token> --ca-hash ${caHash}`],
              ['with no clone', oneLine ?? 'unavailable: this master has no worker bundle (make build)'],
            ],
            ctx.style,
          ),
        );
        ctx.print(ctx.style.dim('the token admits new workers only; join-token create makes one with an expiry and a use limit'));
      },
    },
    {
      name: 'join-tokens',
      usage: 'join-tokens',
      summary: 'the join tokens: state, uses, expiry, who made them (never their secrets)',
      args: [],
      async run(ctx, args) {
        expectArgs(this, args, 0, 0);
        const tokens = await ctx.services.joinTokens.list();
        const now = ctx.now();
        ctx.print(
          table(
            ['ID', 'STATE', 'USES', 'EXPIRES', 'CREATED BY', 'DESCRIPTION'],
            tokens.map((token) => {
              const view = joinTokenView(token, now);
              return [
                token.id,
                ctx.style.status(view.state),
                `${token.uses}${token.usageLimit === undefined ? '' : `/${token.usageLimit}`}`,
                token.expiresAt === undefined ? 'never' : isoTime(token.expiresAt),
                cell(token.createdBy, 40),
                cell(token.startToken ? `${token.description} (start token)` : token.description, 60),
              ];
            }),
            ctx.style,
          ),
        );
      },
    },
    {
      name: 'join-token',
      audit: (args) => (args[0] === 'create' ? 'join-token.create' : args[0] === 'revoke' ? 'join-token.revoke' : undefined),
      usage: 'join-token create [--expires 24h] [--uses N] [description] | join-token revoke <id>',
      summary: 'make a join token (its secret is shown once) or revoke one',
      details: [
        'join-token create   a new token `<id>.<secret>`; --expires D (e.g. 30m, 24h, 7d; none = never),',
        '                    --uses N (how many workers it may admit; none = any number); the rest of the',
        '                    line is its description. The secret is printed once and never stored.',
        'join-token revoke <id>  no new worker can join with it; workers that joined keep their certificates',
        '                    (remove-worker takes one out).',
      ].join('\n'),
      args: ['joinToken', 'joinToken'],
      flags: ['--expires', '--uses'],
      async run(ctx, args) {
        const [action, ...rest] = args;
        if (action === 'revoke') {
          expectArgs(this, rest, 1, 1);
          ctx.auditObject(`join-token:${rest[0]!}`);
          const token = await ctx.services.joinTokens.revoke(rest[0]!, ctx.admin.email);
          ctx.print(`join token ${token.id} is revoked: no new worker can join with it`);
          return;
        }
        if (action !== 'create') throw usageError(this, action === undefined ? 'create or revoke?' : `unknown action "${cell(action, 40)}"`);
        let expiresInMs: number | undefined;
        let usageLimit: number | undefined;
        const words: string[] = [];
        for (let i = 0; i < rest.length; i += 1) {
          const word = rest[i]!;
          const [flag, inline] = word.startsWith('--') ? (word.split(/=(.*)/s, 2) as [string, string | undefined]) : [word, undefined];
          if (flag === '--expires' || flag === '--uses') {
            const value = inline ?? rest[++i];
            if (flag === '--expires') {
              const ms = value === undefined ? undefined : parseDurationMs(value);
              if (ms === undefined || ms <= 0 || ms > 365 * 86_400_000) throw usageError(this, `--expires takes a duration from 1s to 365d such as 24h (got ${value === undefined ? 'nothing' : `"${cell(value, 40)}"`})`);
              expiresInMs = ms;
            } else {
              if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) {
                throw usageError(this, `--uses takes a whole number 1-1000000 (got ${value === undefined ? 'nothing' : `"${cell(value, 40)}"`})`);
              }
              usageLimit = Number(value);
            }
          } else if (word.startsWith('-')) {
            throw usageError(this, `unknown option ${cell(word, 40)}`);
          } else {
            words.push(word);
          }
        }
        const description = words.join(' ');
        if (description.length > 200) throw usageError(this, 'the description may be at most 200 characters');
        const { token, secret } = await ctx.services.joinTokens.create({ description, expiresInMs, usageLimit }, ctx.admin.email);
        ctx.auditObject(`join-token:${token.id}`);
        const { grpcAddress, caHash } = ctx.services;
        const oneLine = await ctx.services.oneLineJoinFor?.(secret);
        ctx.print(
          fields(
            [
              ['id', token.id],
              ['secret', ctx.style.bold(secret)],
              ['expires', token.expiresAt === undefined ? 'never' : isoTime(token.expiresAt)],
              ['uses', token.usageLimit === undefined ? 'any number' : String(token.usageLimit)],
              ['join a worker', `./runWorker.sh --master ${grpcAddress} --token-file <file holding the secret> --ca-hash ${caHash}`],
              ...(oneLine ? [['with no clone', oneLine] as [string, string]] : []),
            ],
            ctx.style,
          ),
        );
        ctx.print(ctx.style.dim('the secret is shown this once; keep it in a file (mode 600) for --token-file'));
      },
    },
    {
      name: 'remove-worker',
      audit: () => 'worker.remove',
      usage: 'remove-worker <worker>',
      summary: 'take a worker out: its certificate is revoked, its stream closed, its tasks run elsewhere',
      details: [
        'The worker\'s certificate goes on the revocation list (checked on every call, kept across',
        'restarts); its attempts are treated like a lost worker\'s: held until it must have stopped',
        'them (its --stop-after + stop grace from its last contact; it may run them until it notices',
        'it is cut off), then re-queued. It can only come back by joining again with a join token, as',
        'a new worker with a new id.',
      ].join('\n'),
      args: ['worker'],
      async run(ctx, args) {
        expectArgs(this, args, 1, 1);
        const id = ctx.ids.workerId(args[0]!);
        ctx.auditObject(`worker:${id}`);
        const running = ctx.services.tasks.attemptsByWorker().get(id) ?? 0;
        const record = await ctx.services.identity.remove(id, ctx.admin.email);
        ctx.print(
          `worker ${id.slice(0, 8)} (${cell(record.name, 40)}) is removed: its certificate is revoked` +
            (running > 0 ? `; ${running === 1 ? 'its task runs' : `its ${running} tasks run`} elsewhere once it must have stopped ${running === 1 ? 'it' : 'them'}` : ''),
        );
      },
    },
    {
      name: 'exit',
      audit: () => 'master.stop',
      usage: 'exit',
      summary: 'stop the master in order (as Ctrl-C would without the REPL) and leave',
      args: [],
      run(ctx, args) {
        expectArgs(this, args, 0, 0);
        ctx.exit();
      },
    },
  ];
  return commands;
}

/** `dag submit <file>`: the file from the master's disk, through the same parser and service as POST /api/dags. */
async function submitDagFile(ctx: ReplContext, file: string): Promise<void> {
  const path = resolve(ctx.cwd, file);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new WharfError('validation_failed', `dag submit: ${path} is not a file`);
    if (info.size > MAX_DAG_FILE_BYTES) throw new WharfError('payload_too_large', `dag submit: ${path}: a DAG file may be at most ${MAX_DAG_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    if (error instanceof WharfError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error);
    throw new WharfError('validation_failed', `dag submit: cannot read ${path}: ${why}`);
  }
  const spec = parseDagFile(text, dagFileContentType(path));
  const run = await ctx.services.dags.submit(ctx.admin, spec);
  ctx.auditObject(`dag:${run.id}`);
  for (const warning of spec.warnings) ctx.print(ctx.style.dim(`warning: ${warning.path}: ${warning.message}`));
  const queued = run.tasks.filter((t) => t.state === 'queued').length;
  ctx.print(
    `submitted DAG run ${ctx.style.bold(run.id)} (${cell(run.name, 63)}): ${run.tasks.length} task${run.tasks.length === 1 ? '' : 's'}, ${queued} queued` +
      ctx.style.dim(`  (dag ${run.id.slice(0, 8)} shows it)`),
  );
}

/** An account by email, id or a unique start of an id. */
async function resolveUser(ctx: ReplContext, who: string): Promise<User> {
  const users = await ctx.services.users.list();
  const lower = who.toLowerCase();
  const exact = users.find((u) => u.email === lower || u.id === who);
  if (exact) return exact;
  const started = who.length >= 4 ? users.filter((u) => u.id.startsWith(who)) : [];
  if (started.length === 1) return started[0]!;
  if (started.length > 1) throw new WharfError('validation_failed', `user: "${cell(who, 40)}" is the start of ${started.length} ids; type more of it`);
  throw new WharfError('not_found', `user ${cell(who, 80)} not found`);
}

async function setDraining(ctx: ReplContext, prefix: string, draining: boolean): Promise<void> {
  const id = ctx.ids.workerId(prefix);
  ctx.auditObject(`worker:${id}`);
  const worker = (await ctx.services.registry.setDraining(id, draining))!;
  const running = ctx.services.tasks.attemptsByWorker().get(id) ?? 0;
  const name = `worker ${id.slice(0, 8)} (${cell(worker.record.name, 40)})`;
  if (worker.record.status === 'lost') {
    ctx.print(`${name} is lost; nothing changed`);
  } else if (draining) {
    ctx.print(`${name} is draining: no new tasks are placed on it; ${running === 1 ? 'the task it runs finishes' : `the ${running} tasks it runs finish`}`);
  } else {
    ctx.print(`${name} is ready: it takes new tasks again`);
  }
}

export const COMMANDS: readonly Command[] = commandList();

/** `quit` is accepted for `exit`. */
const ALIASES: Readonly<Record<string, string>> = { quit: 'exit', '?': 'help' };

export function findCommand(name: string): Command {
  const wanted = ALIASES[name] ?? name;
  const command = COMMANDS.find((c) => c.name === wanted);
  if (command) return command;
  const close = COMMANDS.filter((c) => c.name.startsWith(name.slice(0, 2)) && name.length >= 2).map((c) => c.name);
  const hint = close.length > 0 ? `; did you mean ${close.join(' or ')}?` : '; type help for the list';
  throw new WharfError('validation_failed', `unknown command "${showControls(name).slice(0, 40)}"${hint}`);
}
