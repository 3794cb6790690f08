// How the REPL prints DAG runs (`dags`, `dag <id>`, `dag-metrics <name>`): pure functions from
// what the DAG service answers to text, so the numbers on screen are the service's numbers.
import { formatBytes } from '@wharf/proto';
import type { DagRunMetrics } from '../dags/dag-metrics.js';
import type { DagDetails } from '../dags/dag-service.js';
import { TERMINAL_DAG_TASK_STATES, type DagRun } from '../records/dag.js';
import { ago, cell, distinctPrefixLength, fields, formatDuration, isoTime, table, type Style } from './format.js';

/** A run's duration: 850ms, 4.21s, then 3m 20s... (runs are often a few seconds long). */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  return formatDuration(ms);
}

/** How long a run took, or has run so far. */
function runDuration(run: { createdAt: number; finishedAt?: number | undefined }, now: number): string {
  return run.finishedAt === undefined ? `${formatDuration(now - run.createdAt)} so far` : formatMs(run.finishedAt - run.createdAt);
}

/** "2/3", "3/3 (1 failed)": tasks that ended of all tasks, and how many did not succeed. */
export function taskProgress(run: Pick<DagRun, 'tasks'>): string {
  const ended = run.tasks.filter((t) => TERMINAL_DAG_TASK_STATES.has(t.state)).length;
  const notOk = run.tasks.filter((t) => TERMINAL_DAG_TASK_STATES.has(t.state) && t.state !== 'succeeded').length;
  return `${ended}/${run.tasks.length}${notOk > 0 ? ` (${notOk} did not succeed)` : ''}`;
}

/** `dags`: one row per run, newest first; `cache` is the run's cacheHit class from its metrics. */
export function dagRunsTable(runs: readonly DagRun[], cacheById: ReadonlyMap<string, string>, style: Style, now: number): string {
  const idLength = distinctPrefixLength(runs.map((r) => r.id));
  return table(
    ['ID', 'NAME', 'STATUS', 'TASKS DONE', 'CACHE', 'STARTED', 'DURATION'],
    runs.map((run) => [
      run.id.slice(0, idLength),
      cell(run.name, 63),
      style.status(run.status),
      taskProgress(run),
      run.useCache ? (cacheById.get(run.id) ?? '-') : 'off',
      ago(run.createdAt, now),
      runDuration(run, now),
    ]),
    style,
  );
}

/** `dag <id>`: the run, its tasks in dependency order, each input's cache outcome, the artifacts. */
export function dagDetailsView(run: DagDetails, style: Style, now: number): string {
  const s = style;
  const head: [string, string][] = [
    ['id', run.id],
    ['name', run.name],
    ['status', `${s.status(run.status)}${run.cancelRequested && run.status === 'running' ? ' (cancelling)' : ''}`],
    ['owner', run.userId],
    ['cache', run.useCache ? 'on' : 'off (every input is downloaded)'],
    ['started', isoTime(run.createdAt)],
    ['finished', isoTime(run.finishedAt)],
    ['duration', runDuration(run, now)],
    ['tasks', taskProgress({ tasks: run.tasks.map((t) => ({ name: t.name, state: t.status })) })],
  ];
  const parts = [fields(head, s), '', s.bold('Tasks (in dependency order)')];
  parts.push(
    table(
      ['NAME', 'STATUS', 'TASK', 'WORKER', 'ATTEMPTS', 'EXIT', 'DEPENDS ON', 'REASON'],
      run.tasks.map((t) => {
        const last = t.attempts[t.attempts.length - 1];
        return [
          cell(t.name, 63),
          s.status(t.status),
          t.taskId ? t.taskId.slice(0, 8) : '-',
          t.workerId ? t.workerId.slice(0, 8) : '-',
          String(t.attempts.length),
          last?.exitCode === undefined ? '-' : String(last.exitCode),
          cell(t.dependsOn.join(','), 60),
          cell(t.reason, 80),
        ];
      }),
      s,
    ),
  );
  const inputs = run.tasks.flatMap((t) => t.inputs.map((input) => ({ task: t.name, ...input })));
  if (inputs.length > 0) {
    parts.push(
      '',
      s.bold('Inputs'),
      table(
        ['TASK', 'INPUT', 'FROM', 'CACHE', 'BYTES', 'SHA256'],
        inputs.map((i) => [
          cell(i.task, 63),
          cell(i.name, 80),
          cell(i.fromTask, 63),
          i.cache === null ? s.dim('not staged yet') : i.cache === 'hit' ? s.green('hit') : s.yellow('miss'),
          i.size === undefined ? '-' : `${i.size} (${formatBytes(i.size)})`,
          i.sha256 ? i.sha256.slice(0, 16) : '-',
        ]),
        s,
      ),
    );
  }
  const outputs = run.tasks.flatMap((t) => (t.artifacts ?? []).map((a) => ({ task: t.name, ...a })));
  if (outputs.length > 0) {
    parts.push(
      '',
      s.bold('Artifacts'),
      table(
        ['TASK', 'OUTPUT', 'BYTES', 'SHA256'],
        outputs.map((a) => [cell(a.task, 63), cell(a.name, 80), `${a.size} (${formatBytes(a.size)})`, a.sha256.slice(0, 16)]),
        s,
      ),
    );
  }
  return parts.join('\n');
}

export interface CacheComparison {
  cached: { runs: number; averageMs: number | undefined };
  uncached: { runs: number; averageMs: number | undefined };
}

/**
 * Average duration of the ended runs served from cache (cacheHit Hit or Partial) and of those
 * that were not (Miss or N/A). Runs still running have no duration and are left out.
 */
export function compareCachedRuns(runs: readonly DagRunMetrics[]): CacheComparison {
  const ended = runs.filter((r) => r.durationMs !== null);
  const average = (list: readonly DagRunMetrics[]) => (list.length === 0 ? undefined : list.reduce((n, r) => n + r.durationMs!, 0) / list.length);
  const cached = ended.filter((r) => r.cacheHit === 'Hit' || r.cacheHit === 'Partial');
  const uncached = ended.filter((r) => r.cacheHit === 'Miss' || r.cacheHit === 'N/A');
  return { cached: { runs: cached.length, averageMs: average(cached) }, uncached: { runs: uncached.length, averageMs: average(uncached) } };
}

/** The summary line under `dag-metrics`. */
export function cacheSummaryLine(runs: readonly DagRunMetrics[]): string {
  const { cached, uncached } = compareCachedRuns(runs);
  const part = (label: string, group: CacheComparison['cached']) =>
    `${label}: ${group.runs} run${group.runs === 1 ? '' : 's'}${group.averageMs === undefined ? '' : `, average ${formatMs(group.averageMs)}`}`;
  let line = `${part('cached (Hit/Partial)', cached)}; ${part('uncached (Miss/N/A)', uncached)}`;
  if (cached.averageMs !== undefined && uncached.averageMs !== undefined && uncached.averageMs > 0) {
    const change = ((cached.averageMs - uncached.averageMs) / uncached.averageMs) * 100;
    line += `; cached runs took ${Math.abs(change).toFixed(0)}% ${change <= 0 ? 'less' : 'more'} time`;
  }
  const running = runs.length - cached.runs - uncached.runs;
  if (running > 0) line += ` (${running} still running, not counted)`;
  return line;
}

/** `dag-metrics <name>`: the runs newest first with their metrics fields. */
export function dagMetricsTable(runs: readonly DagRunMetrics[], style: Style): string {
  const idLength = distinctPrefixLength(runs.map((r) => r.dagId));
  return table(
    ['ID', 'STATUS', 'STARTED', 'DURATION', 'CACHE', 'HIT TASKS', 'MISS TASKS', 'BYTES FROM CACHE', 'BYTES DOWNLOADED', 'TASKS OK/ALL', 'NODES'],
    runs.map((r) => [
      r.dagId.slice(0, idLength),
      style.status(r.status),
      r.startTime,
      r.durationMs === null ? 'running' : formatMs(r.durationMs),
      r.cacheHit,
      String(r.cacheHitTasks),
      String(r.cacheMissTasks),
      String(r.bytesFromCache),
      String(r.bytesDownloaded),
      `${r.taskSucceeded}/${r.taskCount}`,
      cell(r.nodes.map((n) => n.slice(0, 8)).join(','), 80),
    ]),
    style,
  );
}

/** The content type a DAG file's extension implies (as REST reads its content-type header). */
export function dagFileContentType(path: string): string | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'application/json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'application/yaml';
  return undefined; // sniffed: `{` means JSON, anything else YAML
}
