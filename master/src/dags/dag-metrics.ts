// A DAG run's metrics record (GET /api/dags/:name/metrics), computed from what the store
// keeps about the run: its tasks, where each ran, and the cache report of each input the
// worker staged. Pure functions, so the numbers the API shows are the ones the tests check.
//
// Definitions (docs/DAGS.md repeats them):
// - an input report says whether one input file was served from the worker's cache (`hit`)
//   or moved over the network (`miss`), and how many bytes it has;
// - bytesFromCache / bytesDownloaded: the bytes of hit / missed inputs; with the cache off
//   every staged input was downloaded, so all its bytes count as bytesDownloaded;
// - cacheHitTasks: tasks with at least one input, every one a hit; cacheMissTasks: tasks
//   with at least one input of which at least one was a miss (both 0 with the cache off);
// - cacheHit: over every reported input of the run, `Hit` when all were hits, `Partial`
//   when some were, `Miss` when none were, `N/A` when the cache was off or no input was
//   staged (a run without inputs, or one that failed before any input was needed);
// - nodes: the distinct workers that ran the run's tasks, sorted.
import { WharfError } from '../errors.js';
import type { DagStatus, DagTaskState } from '../records/dag.js';

export type InputCacheOutcome = 'hit' | 'miss';
export type CacheHitClass = 'Hit' | 'Partial' | 'Miss' | 'N/A';

export interface InputCacheReport {
  fromTask: string;
  name: string;
  /** size of the file in bytes */
  bytes: number;
  cache: InputCacheOutcome;
}

export interface DagRunTaskFacts {
  name: string;
  state: DagTaskState;
  /** the worker (id or name, as the API shows workers) of the task's last attempt, if any */
  node?: string | undefined;
  /** that worker's name when the attempt was placed (absent on older attempts) */
  nodeName?: string | undefined;
  /** the cache reports of the task's last attempt that staged inputs; empty if none did */
  inputs: readonly InputCacheReport[];
}

export interface DagRunFacts {
  dagId: string;
  dagName: string;
  status: DagStatus;
  cacheEnabled: boolean;
  /** epoch ms: when the run was submitted */
  createdAt: number;
  /** epoch ms: when the last task became terminal; absent while running */
  finishedAt?: number | undefined;
  tasks: readonly DagRunTaskFacts[];
}

export interface DagRunMetrics {
  dagId: string;
  dagName: string;
  /** ISO 8601 */
  startTime: string;
  /** ISO 8601; null while the run is running */
  endTime: string | null;
  /** endTime − startTime; null while the run is running */
  durationMs: number | null;
  status: DagStatus;
  cacheEnabled: boolean;
  cacheHit: CacheHitClass;
  taskCount: number;
  taskSucceeded: number;
  taskFailed: number;
  taskUpstreamFailed: number;
  cacheHitTasks: number;
  cacheMissTasks: number;
  bytesFromCache: number;
  bytesDownloaded: number;
  nodes: string[];
  /** the same workers by name ({id: name}; a worker whose name is unknown is left out) */
  nodeNames: Record<string, string>;
}

/** Hit / Partial / Miss / N/A over a run's input reports (see the definitions above). */
export function classifyCacheHit(cacheEnabled: boolean, reports: readonly InputCacheReport[]): CacheHitClass {
  if (!cacheEnabled || reports.length === 0) return 'N/A';
  const hits = reports.filter((r) => r.cache === 'hit').length;
  if (hits === reports.length) return 'Hit';
  return hits === 0 ? 'Miss' : 'Partial';
}

export function computeDagRunMetrics(run: DagRunFacts): DagRunMetrics {
  const reports = run.tasks.flatMap((task) => task.inputs);
  let bytesFromCache = 0;
  let bytesDownloaded = 0;
  for (const report of reports) {
    if (run.cacheEnabled && report.cache === 'hit') bytesFromCache += report.bytes;
    else bytesDownloaded += report.bytes;
  }
  const withInputs = run.tasks.filter((task) => task.inputs.length > 0);
  const count = (state: DagTaskState): number => run.tasks.filter((task) => task.state === state).length;
  const ended = run.status !== 'running' && run.finishedAt !== undefined;
  return {
    dagId: run.dagId,
    dagName: run.dagName,
    startTime: new Date(run.createdAt).toISOString(),
    endTime: ended ? new Date(run.finishedAt!).toISOString() : null,
    durationMs: ended ? Math.max(0, run.finishedAt! - run.createdAt) : null,
    status: run.status,
    cacheEnabled: run.cacheEnabled,
    cacheHit: classifyCacheHit(run.cacheEnabled, reports),
    taskCount: run.tasks.length,
    taskSucceeded: count('succeeded'),
    taskFailed: count('failed'),
    taskUpstreamFailed: count('upstream_failed'),
    cacheHitTasks: run.cacheEnabled ? withInputs.filter((task) => task.inputs.every((r) => r.cache === 'hit')).length : 0,
    cacheMissTasks: run.cacheEnabled ? withInputs.filter((task) => task.inputs.some((r) => r.cache === 'miss')).length : 0,
    bytesFromCache,
    bytesDownloaded,
    nodes: [...new Set(run.tasks.flatMap((task) => (task.node ? [task.node] : [])))].sort(),
    nodeNames: Object.fromEntries(run.tasks.flatMap((task) => (task.node && task.nodeName ? [[task.node, task.nodeName] as const] : [])).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** Runs newest first (by submission time, then id for equal times), at most `limit`. */
export function newestRunsFirst<T extends { createdAt: number; dagId: string }>(runs: readonly T[], limit: number): T[] {
  return [...runs]
    .sort((a, b) => b.createdAt - a.createdAt || (a.dagId < b.dagId ? 1 : a.dagId > b.dagId ? -1 : 0))
    .slice(0, limit);
}

export const DEFAULT_METRICS_LIMIT = 20;
export const MAX_METRICS_LIMIT = 500;

/** The `limit` query parameter: absent → 20; an integer 1..500; anything else is a 400. */
export function parseMetricsLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_METRICS_LIMIT;
  const text = Array.isArray(value) ? undefined : String(value);
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new WharfError('validation_failed', `limit: must be a whole number from 1 to ${MAX_METRICS_LIMIT}`);
  }
  const limit = Number(text);
  if (limit < 1 || limit > MAX_METRICS_LIMIT) {
    throw new WharfError('validation_failed', `limit: must be a whole number from 1 to ${MAX_METRICS_LIMIT} (got ${text})`);
  }
  return limit;
}
