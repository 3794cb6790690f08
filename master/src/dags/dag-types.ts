// A DAG run as the store keeps it (one record per run, all of its state): the validated spec,
// each task's state inside the run, and the artifacts its outputs became. Only the DAG service
// (dag-service.ts) writes it, with a version check on every update, so two writers can never
// both apply a change (see `updateDag` in store/store.ts).
import type { DagStatus, DagTaskState } from './dag-evaluation.js';
import type { DagTaskSpec } from './dag-spec.js';

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
}

export type DagPatch = Partial<Omit<DagRun, 'id' | 'userId' | 'createdAt' | 'name'>>;
