// What happened to a worker over its life, as the store keeps it (GET /api/workers/:id/history):
// written by the registry (cluster/worker-registry.ts) when a worker joins or joins again, is
// drained or activated, loses its stream or gets it back, is declared lost, or is removed. Kept after the worker
// is removed, so the history of a removed worker stays readable. (Records: the ground floor.)

/**
 * joined: first registration; rejoined: a lost worker registered again; drained / activated:
 * an admin's drain and its undoing; disconnected / reconnected: its stream closed / opened again;
 * lost: declared lost (detail: why); removed: an admin removed it.
 */
export type WorkerHistoryKind = 'joined' | 'rejoined' | 'drained' | 'activated' | 'disconnected' | 'reconnected' | 'lost' | 'removed';
export const WORKER_HISTORY_KINDS: readonly WorkerHistoryKind[] = ['joined', 'rejoined', 'drained', 'activated', 'disconnected', 'reconnected', 'lost', 'removed'];

export interface WorkerHistoryEvent {
  id: string;
  workerId: string;
  /** epoch ms */
  at: number;
  kind: WorkerHistoryKind;
  /** e.g. why it was declared lost */
  detail?: string | undefined;
}
