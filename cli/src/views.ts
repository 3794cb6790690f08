// Tables and detail views for people, from the API's records: relative ages, worker names
// rather than ids, id prefixes just long enough to tell the rows apart (and to type back).
import { formatBytes } from '@wharf/proto/units';
import {
  ago,
  cell,
  distinctPrefixLength,
  fields,
  formatDuration,
  formatMap,
  formatResources,
  isoTime,
  table,
  usage,
  type Style,
} from '@wharf/proto/console-format';
import { timeOf, type ApiTokenView, type JoinTokenView, type QueueView, type DagRunMetricsView, type DagView, type FileView, type TaskView, type WorkerView } from './api-types.js';

/** worker id → what to show: its name, or name/id-prefix when two workers share a name */
export type WorkerNames = ReadonlyMap<string, string>;

export function workerNames(workers: readonly WorkerView[]): WorkerNames {
  const count = new Map<string, number>();
  for (const w of workers) count.set(w.name, (count.get(w.name) ?? 0) + 1);
  return new Map(workers.map((w) => [w.id, (count.get(w.name) ?? 0) > 1 ? `${w.name}/${w.id.slice(0, 8)}` : w.name]));
}

export function workerLabel(id: string | undefined | null, names: WorkerNames): string {
  if (!id) return '-';
  return names.get(id) ?? id.slice(0, 8);
}

/** After "N of M used": the backoff, what is retried, and whether it is a dead letter. */
function retryPolicyNote(t: TaskView): string {
  const p = t.retryPolicy;
  const parts: string[] = [];
  if (p?.backoffSeconds !== undefined) parts.push(`backoff ${p.backoffSeconds}s ×${p.backoffMultiplier ?? 2} up to ${p.maxBackoffSeconds ?? '-'}s`);
  const on = [...(p?.retryOn?.exitCodes?.length ? [`exit codes ${p.retryOn.exitCodes.join(', ')}`] : []), ...(p?.retryOn?.outcomes ?? [])];
  if (on.length > 0) parts.push(`retry on ${on.join('; ')}`);
  if (t.deadLetteredAt) parts.push('a dead letter (wharf dead-letters)');
  return parts.length > 0 ? `; ${parts.join('; ')}` : '';
}

/** "start by …; end by … (exceeded)" or "none". */
function deadlinesNote(t: TaskView): string {
  const parts: string[] = [];
  if (t.startDeadline) parts.push(`start by ${t.startDeadline}${t.deadlineExceeded === 'startDeadline' ? ' (exceeded)' : ''}`);
  if (t.deadline) parts.push(`end by ${t.deadline}${t.deadlineExceeded === 'deadline' ? ' (exceeded)' : ''}`);
  return parts.join('; ') || 'none';
}

/** The EXIT / REASON column: the exit code of a finished task, the reason of a failed or waiting one. */
export function taskOutcome(task: TaskView): string {
  if (task.status === 'succeeded' || task.status === 'failed') {
    const exit = task.exitCode === undefined ? '' : `exit ${task.exitCode}`;
    return task.reason && task.status === 'failed' ? task.reason : exit;
  }
  return task.reason ?? '';
}

export function tasksTable(tasks: readonly TaskView[], names: WorkerNames, style: Style, now: number): string {
  const idLength = distinctPrefixLength(tasks.map((t) => t.id));
  return table(
    ['ID', 'NAME', 'STATUS', 'IMAGE', 'WORKER', 'CREATED', 'EXIT / REASON'],
    tasks.map((t) => [
      t.id.slice(0, idLength),
      cell(t.name, 30),
      style.status(t.status),
      cell(t.image || `(${t.runtime})`, 40),
      cell(workerLabel(t.workerId, names), 30),
      ago(timeOf(t.createdAt), now),
      cell(taskOutcome(t), 80),
    ]),
    style,
  );
}

export function taskDetails(t: TaskView, names: WorkerNames, style: Style, now: number): string {
  const s = style;
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
    ...(t.queue !== undefined ? [['queue', `${t.queue}${t.pinnedWorkerId ? `, pinned to worker ${workerLabel(t.pinnedWorkerId, names)}` : ''}`] as [string, string]] : []),
    ['retries', `${t.retriesUsed} of ${t.maxRetries} used${retryPolicyNote(t)}`],
    ['timeout', t.timeoutSeconds ? `${t.timeoutSeconds}s` : 'none'],
    ['deadlines', deadlinesNote(t)],
    ['env', cell(Object.keys(t.env).join(', ') || '-', 200)],
    ['labels', cell(formatMap(t.labels), 200)],
    ['worker', workerLabel(t.workerId, names)],
    ['created', `${isoTime(timeOf(t.createdAt))} (${ago(timeOf(t.createdAt), now)})`],
    ['started', isoTime(timeOf(t.startedAt))],
    ['finished', isoTime(timeOf(t.finishedAt))],
  );
  if (t.exitCode !== undefined) pairs.push(['exit code', String(t.exitCode)]);
  if (t.dagId) pairs.push(['DAG run', `${t.dagId} (task ${t.dagTask ?? '?'})`]);
  const parts = [fields(pairs, s)];
  const attempts = t.attempts ?? [];
  if (attempts.length > 0) {
    parts.push(
      '',
      s.bold('Attempts'),
      table(
        ['#', 'WORKER', 'STATUS', 'EXIT', 'STARTED', 'TOOK', 'ERROR'],
        attempts.map((a) => {
          const started = timeOf(a.startedAt);
          const finished = timeOf(a.finishedAt);
          return [
            String(a.number),
            cell(workerLabel(a.workerId, names), 30),
            s.status(a.status),
            a.exitCode === null ? '-' : String(a.exitCode),
            ago(started, now),
            started === undefined ? '-' : formatDuration((finished ?? now) - started),
            cell(a.error ?? undefined, 80),
          ];
        }),
        s,
      ),
    );
  }
  const files = t.files ?? [];
  if (files.length > 0) parts.push('', s.bold('Output files'), filesTable(files, s));
  const events = t.events ?? [];
  if (events.length > 0) {
    parts.push(
      '',
      s.bold('Events'),
      table(
        ['AT', 'KIND', 'MESSAGE'],
        events.map((e) => [isoTime(timeOf(e.at)), e.kind, cell(e.message, 120)]),
        s,
      ),
    );
  }
  return parts.join('\n');
}

export function filesTable(files: readonly FileView[], style: Style): string {
  return table(
    ['PATH', 'SIZE', 'SHA256'],
    files.map((f) => [cell(f.path, 120), formatBytes(f.size), f.sha256]),
    style,
  );
}

export function workersTable(workers: readonly WorkerView[], style: Style, now: number): string {
  const idLength = distinctPrefixLength(workers.map((w) => w.id));
  return table(
    ['NAME', 'ID', 'STATUS', 'CONNECTED', 'RUNTIMES', 'CPU', 'MEMORY', 'GPU', 'TASKS', 'LABELS', 'HEARTBEAT'],
    workers.map((w) => [
      cell(w.name, 30),
      w.id.slice(0, idLength),
      style.status(w.status),
      w.connected ? 'yes' : style.dim('no'),
      w.runtimes.join(','),
      usage(w.reserved.cpu, w.capacity.cpu, 'cpu'),
      usage(w.reserved.memory, w.capacity.memory, 'bytes'),
      usage(w.reserved.gpu, w.capacity.gpu, 'count'),
      String(w.runningTasks),
      cell(formatMap(w.labels), 40),
      ago(timeOf(w.lastHeartbeatAt), now),
    ]),
    style,
  );
}

/** "2/3", "3/3 (1 did not succeed)": tasks that ended, of all. */
export function dagProgress(run: DagView): string {
  const terminal = new Set(['succeeded', 'failed', 'cancelled', 'upstream_failed']);
  const ended = run.tasks.filter((t) => terminal.has(t.status)).length;
  const notOk = run.tasks.filter((t) => terminal.has(t.status) && t.status !== 'succeeded').length;
  return `${ended}/${run.tasks.length}${notOk > 0 ? ` (${notOk} did not succeed)` : ''}`;
}

/** 850ms, 4.21s, then 3m 20s... */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return formatDuration(ms);
}

function runDuration(run: DagView, now: number): string {
  const started = timeOf(run.createdAt) ?? now;
  const finished = timeOf(run.finishedAt);
  return finished === undefined ? `${formatDuration(now - started)} so far` : formatMs(finished - started);
}

export function dagRunsTable(runs: readonly DagView[], style: Style, now: number): string {
  const idLength = distinctPrefixLength(runs.map((r) => r.id));
  return table(
    ['ID', 'NAME', 'STATUS', 'TASKS DONE', 'CACHE', 'STARTED', 'DURATION'],
    runs.map((run) => [
      run.id.slice(0, idLength),
      cell(run.name, 63),
      style.status(run.status),
      dagProgress(run),
      run.useCache ? 'on' : 'off',
      ago(timeOf(run.createdAt), now),
      runDuration(run, now),
    ]),
    style,
  );
}

export function dagDetails(run: DagView, names: WorkerNames, style: Style, now: number): string {
  const s = style;
  const head: [string, string][] = [
    ['id', run.id],
    ['name', run.name],
    ['status', `${s.status(run.status)}${run.cancelRequested && run.status === 'running' ? ' (cancelling)' : ''}`],
    ['cache', run.useCache ? 'on' : 'off'],
    ['started', `${isoTime(timeOf(run.createdAt))} (${ago(timeOf(run.createdAt), now)})`],
    ['finished', isoTime(timeOf(run.finishedAt))],
    ['duration', runDuration(run, now)],
    ['tasks', dagProgress(run)],
  ];
  const parts = [
    fields(head, s),
    '',
    s.bold('Tasks (in dependency order)'),
    table(
      ['NAME', 'STATUS', 'TASK', 'WORKER', 'ATTEMPTS', 'EXIT', 'DEPENDS ON', 'REASON'],
      run.tasks.map((t) => {
        const last = t.attempts?.[t.attempts.length - 1];
        return [
          cell(t.name, 63),
          s.status(t.status),
          t.taskId ? t.taskId.slice(0, 8) : '-',
          cell(workerLabel(t.workerId, names), 30),
          String(t.attempts?.length ?? 0),
          last?.exitCode === undefined || last.exitCode === null ? '-' : String(last.exitCode),
          cell(t.dependsOn.join(','), 60),
          cell(t.reason ?? undefined, 80),
        ];
      }),
      s,
    ),
  ];
  const inputs = run.tasks.flatMap((t) => (t.inputs ?? []).map((input) => ({ task: t.name, ...input })));
  if (inputs.length > 0) {
    parts.push(
      '',
      s.bold('Inputs'),
      table(
        ['TASK', 'INPUT', 'FROM', 'CACHE', 'BYTES'],
        inputs.map((i) => [cell(i.task, 63), cell(i.name, 60), cell(i.fromTask, 63), i.cache ?? '-', i.size === undefined ? '-' : formatBytes(i.size)]),
        s,
      ),
    );
  }
  const artifacts = run.tasks.flatMap((t) => (t.artifacts ?? []).map((a) => ({ task: t.name, ...a })));
  if (artifacts.length > 0) {
    parts.push(
      '',
      s.bold('Artifacts'),
      table(
        ['TASK', 'OUTPUT', 'BYTES', 'SHA256'],
        artifacts.map((a) => [cell(a.task, 63), cell(a.name, 60), formatBytes(a.size), a.sha256.slice(0, 16)]),
        s,
      ),
    );
  }
  return parts.join('\n');
}

export function dagMetricsTable(runs: readonly DagRunMetricsView[], style: Style, now: number): string {
  const idLength = distinctPrefixLength(runs.map((r) => r.dagId));
  return table(
    ['ID', 'STATUS', 'STARTED', 'DURATION', 'CACHE', 'HIT TASKS', 'MISS TASKS', 'FROM CACHE', 'DOWNLOADED', 'TASKS OK/ALL', 'NODES'],
    runs.map((r) => [
      r.dagId.slice(0, idLength),
      style.status(r.status),
      ago(timeOf(r.startTime), now),
      r.durationMs === null ? 'running' : formatMs(r.durationMs),
      r.cacheHit,
      String(r.cacheHitTasks),
      String(r.cacheMissTasks),
      formatBytes(r.bytesFromCache),
      formatBytes(r.bytesDownloaded),
      `${r.taskSucceeded}/${r.taskCount}`,
      cell(r.nodes.map((n) => n.slice(0, 8)).join(','), 60),
    ]),
    style,
  );
}

/** Cached (Hit/Partial) against uncached (Miss/N/A) runs' average duration, as the REPL says it. */
export function cacheComparison(runs: readonly DagRunMetricsView[]): string | undefined {
  const done = runs.filter((r) => r.durationMs !== null);
  const cached = done.filter((r) => r.cacheHit === 'Hit' || r.cacheHit === 'Partial');
  const uncached = done.filter((r) => r.cacheHit === 'Miss' || r.cacheHit === 'N/A');
  if (cached.length === 0 || uncached.length === 0) return undefined;
  const mean = (list: readonly DagRunMetricsView[]) => list.reduce((sum, r) => sum + (r.durationMs ?? 0), 0) / list.length;
  const a = mean(cached);
  const b = mean(uncached);
  const runs1 = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  return `cached (Hit/Partial): ${runs1(cached.length)}, average ${formatMs(a)}; uncached (Miss/N/A): ${runs1(uncached.length)}, average ${formatMs(b)}; cached runs took ${Math.round((1 - a / b) * 100)}% less time`;
}

/** "in 3h", "2d ago", or `never` when there is no time. */
function inOrAgo(iso: string | null, now: number, never: string): string {
  const at = timeOf(iso);
  if (at === undefined) return never;
  return at > now ? `in ${formatDuration(at - now)}` : ago(at, now);
}

export function tokensTable(tokens: readonly ApiTokenView[], style: Style, now: number, showOwner: boolean): string {
  const idLength = distinctPrefixLength(tokens.map((t) => t.id));
  const when = (iso: string | null, never: string) => inOrAgo(iso, now, never);
  return table(
    ['ID', 'NAME', ...(showOwner ? ['OWNER'] : []), 'TOKEN', 'CREATED', 'EXPIRES', 'LAST USED'],
    tokens.map((t) => [
      t.id.slice(0, idLength),
      cell(t.name, 40),
      ...(showOwner ? [t.userId.slice(0, 8)] : []),
      t.hint,
      ago(timeOf(t.createdAt), now),
      when(t.expiresAt, 'never'),
      when(t.lastUsedAt, 'never'),
    ]),
    style,
  );
}


/** Join tokens (admins): whole ids (short, and what a worker's token starts with), never secrets. */
export function joinTokensTable(tokens: readonly JoinTokenView[], style: Style, now: number): string {
  return table(
    ['ID', 'DESCRIPTION', 'STATE', 'USES', 'EXPIRES', 'CREATED', 'REVOKED'],
    tokens.map((t) => [
      t.id,
      cell(t.description || (t.startToken ? '(the start token)' : undefined), 50),
      t.state === 'active' ? t.state : style.dim(t.state),
      `${t.uses}/${t.usageLimit ?? 'any'}`,
      inOrAgo(t.expiresAt, now, 'never'),
      `${ago(timeOf(t.createdAt), now)} by ${cell(t.createdBy, 40)}`,
      inOrAgo(t.revokedAt, now, '-'),
    ]),
    style,
  );
}

/** "3/8", or "3" when there is no cap. */
function ofCap(used: string, cap: number | null, format: (n: number) => string = String): string {
  return cap === null ? used : `${used}/${format(cap)}`;
}

const cores = (n: number): string => String(Number(n.toFixed(3)));

/** The queues with their usage against their caps. */
export function queuesTable(queues: readonly QueueView[], style: Style): string {
  return table(
    ['QUEUE', 'QUEUED', 'RUNNING', 'CPU', 'MEMORY', 'GPU', 'TASKS', 'PRIO', 'STRATEGY', 'PREEMPTION'],
    queues.map((q) => [
      q.name,
      String(q.usage.queued),
      ofCap(String(q.usage.running), q.maxConcurrency),
      ofCap(cores(q.usage.cpu), q.maxCpu, cores),
      ofCap(formatBytes(q.usage.memory), q.maxMemory, formatBytes),
      ofCap(String(q.usage.gpu), q.maxGpus),
      ofCap(String(q.usage.queued + q.usage.running), q.maxTasks),
      String(q.defaultPriority),
      q.strategy,
      q.preemptionPolicy,
    ]),
    style,
  );
}

/** One queue: its settings, then each user's tasks, dominant share and weight. */
export function queueDetails(q: QueueView, style: Style): string {
  const selector = [formatMap(q.workerSelector), ...q.constraints.map((c) => `${c.key} ${c.op}${c.values ? ` ${c.values.join(',')}` : ''}`)].filter((x) => x && x !== '-');
  const head = fields(
    [
      ['name', q.name],
      ['description', cell(q.description ?? '-', 200)],
      ['workers', selector.length > 0 ? cell(selector.join('; '), 200) : 'any'],
      ['strategy', q.strategy],
      ['priority', `${q.defaultPriority} by default`],
      ['preemption', q.preemptionPolicy],
      ['queued', String(q.usage.queued)],
      ['running', ofCap(String(q.usage.running), q.maxConcurrency)],
      ['cpu', ofCap(cores(q.usage.cpu), q.maxCpu, cores)],
      ['memory', ofCap(formatBytes(q.usage.memory), q.maxMemory, formatBytes)],
      ['gpus', ofCap(String(q.usage.gpu), q.maxGpus)],
      ['tasks', ofCap(String(q.usage.queued + q.usage.running), q.maxTasks)],
    ],
    style,
  );
  if (q.users.length === 0) return `${head}\n${style.dim('no user has tasks in this queue')}`;
  const users = table(
    ['USER', 'QUEUED', 'RUNNING', 'CPU', 'MEMORY', 'GPU', 'SHARE', 'WEIGHT'],
    q.users.map((u) => [cell(u.user, 60), String(u.queued), String(u.running), cores(u.cpu), formatBytes(u.memory), String(u.gpu), `${(u.share * 100).toFixed(1)}%`, String(u.weight)]),
    style,
  );
  return `${head}\n\n${users}`;
}
