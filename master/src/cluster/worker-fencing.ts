// The fencing bound a worker declares at Register: after how long without contact it stops its
// attempts on its own (stop-after) and how long it gives each to stop (grace). The master holds
// a lost worker's attempts until that bound has passed (see lost-worker-fence.ts), so it
// refuses a worker that declares none, one too short to survive the gap between heartbeats,
// and one longer than it is willing to hold tasks (--max-stop-after).
import { formatDurationMs as formatDuration } from '@wharf/proto';
import { WharfError } from '../errors.js';
import type { WorkerFencing } from './worker-types.js';

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
