// One evaluation step of a DAG run, as a pure function: given the graph and every task's
// state, what must happen next. The engine calls it after any change (a task ended, a cancel,
// a master restart) and applies the answer to the store; running it twice on the same states
// gives the same answer, so a restart simply evaluates again and nothing is dispatched twice
// as long as the engine moves a task out of `pending` in the same commit that queues it.
//
//   pending ──all dependencies succeeded──▶ queued ─▶ running ─▶ succeeded | failed | cancelled
//      └──a dependency failed, was cancelled or is upstream_failed──▶ upstream_failed
//   cancel of the run: every task not yet terminal ──▶ cancelled
//
// A DAG run ends when every task is terminal: succeeded only if every task succeeded;
// otherwise cancelled if the run was cancelled, failed if not. (A run whose tasks had all
// succeeded before the cancel stays succeeded; the API answers such a cancel with 409.)
import { TERMINAL_DAG_TASK_STATES, type DagStatus, type DagTaskState } from '../records/dag.js';
import type { DagGraph } from './dag-graph.js';

export interface DagEvaluation {
  /** pending tasks whose dependencies all succeeded: submit them now (declaration/topological order) */
  toQueue: string[];
  /** pending tasks that can never run because something upstream did not succeed */
  toMarkUpstreamFailed: string[];
  /** tasks to cancel because the run was cancelled (pending, queued or running) */
  toCancel: string[];
  /** true when, after applying this step, every task is terminal */
  finished: boolean;
  /** the run's status after applying this step */
  status: DagStatus;
}

const BLOCKING: ReadonlySet<DagTaskState> = new Set(['failed', 'cancelled', 'upstream_failed']);

/**
 * @param states every task's current state by name; a name missing from the map counts as
 *   `pending`
 * @param cancelRequested the user asked to cancel the run
 */
export function evaluateDag(graph: DagGraph, states: ReadonlyMap<string, DagTaskState>, cancelRequested = false): DagEvaluation {
  const order = graph.topologicalOrder();
  const effective = new Map<string, DagTaskState>(order.map((name) => [name, states.get(name) ?? 'pending']));
  const toQueue: string[] = [];
  const toMarkUpstreamFailed: string[] = [];
  const toCancel: string[] = [];

  if (cancelRequested) {
    for (const name of order) {
      if (!TERMINAL_DAG_TASK_STATES.has(effective.get(name)!)) {
        toCancel.push(name);
        effective.set(name, 'cancelled');
      }
    }
  } else {
    // topological order: a task's dependencies have their final answer for this step first,
    // so a failure propagates through the whole chain in one evaluation
    for (const name of order) {
      if (effective.get(name) !== 'pending') continue;
      const deps = graph.dependenciesOf(name).map((dep) => effective.get(dep) ?? 'pending');
      if (deps.some((state) => BLOCKING.has(state))) {
        toMarkUpstreamFailed.push(name);
        effective.set(name, 'upstream_failed');
      } else if (deps.every((state) => state === 'succeeded')) {
        toQueue.push(name);
        effective.set(name, 'queued');
      }
    }
  }

  const finalStates = [...effective.values()];
  const finished = finalStates.every((state) => TERMINAL_DAG_TASK_STATES.has(state));
  let status: DagStatus = 'running';
  if (finished) {
    if (finalStates.every((state) => state === 'succeeded')) status = 'succeeded';
    else status = cancelRequested ? 'cancelled' : 'failed';
  }
  return { toQueue, toMarkUpstreamFailed, toCancel, finished, status };
}
