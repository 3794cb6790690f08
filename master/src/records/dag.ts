// A DAG run as the store keeps it (one record per run, all of its state): the validated spec,
// each task's state inside the run, and the artifacts its outputs became. Only the DAG service
// (dags/dag-service.ts) writes it, with a version check on every update, so two writers can
// never both apply a change (see `updateDag` in store/store.ts). The states are evaluated in
// dags/dag-evaluation.ts. (Records: the ground floor; they import only each other.)
import type { NewTask } from './task.js';

/** A task's state inside a DAG run (`failed` = failed after its retries). */
export type DagTaskState = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'upstream_failed';
export const DAG_TASK_STATES: readonly DagTaskState[] = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'upstream_failed'];
export const TERMINAL_DAG_TASK_STATES: ReadonlySet<DagTaskState> = new Set(['succeeded', 'failed', 'cancelled', 'upstream_failed']);

export type DagStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const DAG_STATUSES: readonly DagStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];

export interface DagInputRef {
  /** the task that produces the file; always one of dependsOn */
  fromTask: string;
  /** an output name declared by fromTask; staged read-only at /input/<name> */
  name: string;
}

/** One task of a validated DAG file (dags/dag-spec.ts): a submission plus its place in the graph. */
export interface DagTaskSpec extends NewTask {
  /** direct dependencies, in the order written */
  dependsOn: string[];
  inputs: DagInputRef[];
  /** files the task writes under /output/<name>; they become artifacts */
  outputs: string[];
}

/** A validated, normalised DAG file. */
export interface DagSpec {
  name: string;
  /** default true; false = inputs are neither read from nor written to worker caches */
  useCache: boolean;
  /** every task after all of its dependencies; ties keep the file's order */
  tasks: DagTaskSpec[];
  /** fields of other engines' files that were ignored, each with where it was (not stored) */
  warnings: { path: string; message: string }[];
}

/** An artifact a task's declared output became (content-addressed). */
export interface DagArtifact {
  /** the output name (relative path under /output) */
  name: string;
  sha256: string;
  size: number;
}

export interface DagRunTask {
  name: string;
  state: DagTaskState;
  /** the Wharf task that runs it; set in the same store commit that inserts that task */
  taskId?: string | undefined;
  /** why it ended the way it did (failed, upstream_failed, cancelled) */
  reason?: string | undefined;
  /** epoch ms when it became terminal */
  finishedAt?: number | undefined;
  /** on success: one artifact per declared output */
  artifacts?: DagArtifact[] | undefined;
  /**
   * set when a retry took this succeeded task over from an earlier run instead of running it
   * again: that run's id (taskId, artifacts and finishedAt are that run's)
   */
  reusedFrom?: string | undefined;
}

/** How a run came to be when it is not a fresh submission (POST /api/dags/:id/retry or /rerun). */
export interface DagRunOrigin {
  /** retry: succeeded tasks reused, the others run again; rerun: the same file run anew */
  kind: 'retry' | 'rerun';
  /** the run it was made from */
  dagId: string;
}

export interface DagRun {
  id: string;
  name: string;
  userId: string;
  status: DagStatus;
  useCache: boolean;
  /** the user asked to cancel; tasks not yet terminal are being cancelled */
  cancelRequested: boolean;
  createdAt: number;
  /** epoch ms when the last task became terminal */
  finishedAt?: number | undefined;
  /** increases by one with every update; updates are conditional on it */
  version: number;
  /** the validated tasks, in topological order */
  spec: DagTaskSpec[];
  /** one entry per spec task, same order */
  tasks: DagRunTask[];
  /** absent for a fresh submission */
  origin?: DagRunOrigin | undefined;
}

export type DagPatch = Partial<Omit<DagRun, 'id' | 'userId' | 'createdAt' | 'name' | 'origin'>>;
