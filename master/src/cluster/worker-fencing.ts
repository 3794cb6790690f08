// The fencing bound a worker declares at Register: after how long without contact it stops its
// attempts on its own (stop-after) and how long it gives each to stop (grace). The master holds
// a lost worker's attempts until that bound has passed (tasks/systems/recovery-system.ts), so it
// refuses a worker that declares none, one too short to survive the gap between heartbeats,
// and one longer than it is willing to hold tasks (--max-stop-after).
import { formatDurationMs as formatDuration } from '@wharf/proto/units';
import { WharfError } from '../errors.js';
import type { WorkerFencing } from '../records/worker.js';

/** As the worker declares it: stopAfterMs 0 = the master's heartbeat TTL. */
export interface DeclaredFencing {
  stopAfterMs: number;
  stopGraceMs: number;
}

export interface FencingLimits {
  heartbeatTtlMs: number;
  heartbeatIntervalMs: number;
  /** the longest bound (stop-after + grace) a worker may declare */
  maxStopAfterMs: number;
}

/** The bound this worker applies, or `validation_failed` naming the field and what to change. */
export function resolveFencing(declared: DeclaredFencing | undefined, limits: FencingLimits): WorkerFencing {
  if (!declared) {
    throw new WharfError(
      'validation_failed',
      'fencing: this master only admits workers that stop their tasks when they lose it (RegisterRequest.fencing); upgrade the worker',
    );
  }
  const { stopAfterMs: declaredStopAfter, stopGraceMs } = declared;
  if (!Number.isSafeInteger(declaredStopAfter) || declaredStopAfter < 0) {
    throw new WharfError('validation_failed', `fencing.stopAfterMs: must be 0 (the master's heartbeat TTL) or a positive number of ms (got ${declaredStopAfter})`);
  }
  if (!Number.isSafeInteger(stopGraceMs) || stopGraceMs < 0) {
    throw new WharfError('validation_failed', `fencing.stopGraceMs: must be 0 or a positive number of ms (got ${stopGraceMs})`);
  }
  const stopAfterMs = declaredStopAfter === 0 ? limits.heartbeatTtlMs : declaredStopAfter;
  const minimum = 2 * limits.heartbeatIntervalMs;
  if (stopAfterMs < minimum) {
    throw new WharfError(
      'validation_failed',
      `fencing.stopAfterMs: ${formatDuration(stopAfterMs)} is shorter than two heartbeat intervals (${formatDuration(minimum)}); the worker would stop its tasks between heartbeats: raise its --stop-after`,
    );
  }
  if (stopAfterMs + stopGraceMs > limits.maxStopAfterMs) {
    throw new WharfError(
      'validation_failed',
      `fencing: stop-after ${formatDuration(stopAfterMs)} + stop grace ${formatDuration(stopGraceMs)} exceeds this master's --max-stop-after (${formatDuration(limits.maxStopAfterMs)}): lower the worker's --stop-after or --cancel-grace-seconds`,
    );
  }
  return { stopAfterMs, stopGraceMs };
}

/** How long after its last contact a lost worker must have stopped everything it ran. */
export function fencingBoundMs(fencing: WorkerFencing): number {
  return fencing.stopAfterMs + fencing.stopGraceMs;
}

/** Added to each lost worker's bound: timer lateness, the runtime's own stop latency, clock rate. */
export const FENCING_MARGIN_MS = 2000;

/**
 * When the attempts of a lost worker may be given to others (Nomad's stop_on_client_after /
 * max_client_disconnect): a worker that cannot reach the master stops its attempts once it has
 * had no contact for its stop-after, giving each its stop grace, so they are re-queued only at
 *
 *   last contact + stop-after + stop grace + FENCING_MARGIN_MS
 *
 * never at the moment the worker is declared lost. One task then never runs on two workers at
 * once, except for the difference in clock rate over the bound (the worker measures from the send
 * time of its newest acknowledged heartbeat, which is before the master received it). After a
 * master restart the last contact is the restart (cluster/worker-registry.ts load). A record that
 * declares no bound (stored before workers declared one): `now`, since nothing will stop its tasks
 * and waiting helps nobody.
 */
export function fencedRequeueAt(worker: { record: { fencing?: WorkerFencing | undefined }; lastContactAt: number }, now: number): number {
  const { fencing } = worker.record;
  if (!fencing) return now;
  return Math.max(now, worker.lastContactAt + fencingBoundMs(fencing) + FENCING_MARGIN_MS);
}
