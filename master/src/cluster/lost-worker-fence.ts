// Holds a lost worker's attempts until the worker must have stopped them (Nomad's
// stop_on_client_after / max_client_disconnect): a worker that cannot reach the master stops
// its running attempts once it has had no contact for its stop-after, giving each its stop
// grace (worker-fencing.ts), so the master re-queues them only at
//
//   last contact + stop-after + stop grace + margin
//
// and never at the moment it declares the worker lost. One task then never runs on two workers
// at once, except for the difference in clock rate over the bound (the worker measures from the
// send time of its newest acknowledged heartbeat, which is before the master received it).
// A worker that registers again before that moment keeps its attempts (the timer is
// cancelled; the task service sorts out which it still holds). After a master restart the
// last contact is taken as the restart itself, so a worker silent since before it is held for
// the bound after the master's start.
import type { Logger } from '../logger.js';
import { formatDurationMs } from '@wharf/proto';
import { fencingBoundMs } from './worker-fencing.js';
import type { WorkerRegistry } from './worker-registry.js';

/** What the fence asks of the task service: mark the wait, then re-queue. */
export interface LostWorkerAttempts {
  /** The worker is lost; its attempts are re-queued at `requeueAt` unless it returns. */
  workerAwaitingFence(workerId: string, requeueAt: number): Promise<void>;
  /** Re-queue every attempt the worker still holds, now (attempts `lost`, not charged). */
  workerLost(workerId: string): Promise<void>;
}

export interface LostWorkerFenceOptions {
  /** added to every bound for timer lateness, the runtime's own stop latency and clock rate */
  marginMs: number;
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** Added to each worker's bound by default. */
export const FENCING_MARGIN_MS = 2000;

export class LostWorkerFence {
  private readonly timers = new Map<string, { timer: unknown; at: number }>();
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly tasks: LostWorkerAttempts,
    private readonly logger: Logger,
    private readonly options: LostWorkerFenceOptions = { marginMs: FENCING_MARGIN_MS },
  ) {
    // a worker that registers again is no longer waited out
    this.unsubscribe = registry.onWorkerEvent((event) => {
      if (event.kind === 'joined') this.workerReturned(event.workerId);
    });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** When the attempts of this lost worker will be re-queued, if they are being held. */
  requeueAt(workerId: string): number | undefined {
    return this.timers.get(workerId)?.at;
  }

  /** The registry marked the worker lost: hold its attempts until its bound has passed. */
  workerLost(workerId: string): void {
    if (this.stopped) return;
    const worker = this.registry.get(workerId);
    const now = this.now();
    const fencing = worker?.record.fencing;
    // a record from before workers declared a bound: nothing will stop its tasks, so waiting helps nobody
    const at = worker && fencing ? Math.max(now, worker.lastContactAt + fencingBoundMs(fencing) + this.options.marginMs) : now;
    this.clear(workerId);
    if (at <= now) {
      this.requeue(workerId);
      return;
    }
    const setTimer = this.options.setTimer ?? ((run: () => void, ms: number) => setTimeout(run, ms).unref());
    this.timers.set(workerId, { at, timer: setTimer(() => this.fire(workerId), at - now) });
    this.logger.info(
      { workerId, requeueAt: new Date(at).toISOString(), boundMs: fencing ? fencingBoundMs(fencing) : 0 },
      `holding the lost worker's attempts for ${formatDurationMs(at - now)}, until it must have stopped them`,
    );
    this.tasks.workerAwaitingFence(workerId, at).catch((error: unknown) => {
      this.logger.error({ err: error, workerId }, 'cannot mark the tasks of a lost worker');
    });
  }

  /**
   * After a master restart: the workers among these that were already lost when the master
   * stopped (their attempts not yet re-queued) are held for their bound from now.
   */
  holdLostWorkers(workerIds: Iterable<string>): void {
    for (const workerId of workerIds) {
      if (this.registry.get(workerId)?.record.status === 'lost') this.workerLost(workerId);
    }
  }

  /** The worker registered again: its attempts are no longer waited out here. */
  workerReturned(workerId: string): void {
    if (this.clear(workerId)) this.logger.info({ workerId }, 'a lost worker returned before its attempts were re-queued');
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const workerId of [...this.timers.keys()]) this.clear(workerId);
  }

  private fire(workerId: string): void {
    this.timers.delete(workerId);
    // returned meanwhile (the 'joined' event may race the timer): it keeps what it holds
    if (this.stopped || this.registry.get(workerId)?.record.status !== 'lost') return;
    this.requeue(workerId);
  }

  private requeue(workerId: string): void {
    this.tasks.workerLost(workerId).catch((error: unknown) => {
      this.logger.error({ err: error, workerId }, 'requeue of a lost worker failed');
    });
  }

  private clear(workerId: string): boolean {
    const entry = this.timers.get(workerId);
    if (!entry) return false;
    (this.options.clearTimer ?? ((timer: unknown) => clearTimeout(timer as NodeJS.Timeout)))(entry.timer);
    this.timers.delete(workerId);
    return true;
  }
}
