// Timeouts the master enforces itself (issue 12, point 5). The worker times each attempt first
// (its own timer stops the task and reports `timed_out`); the master is the backstop for a worker
// that does not:
//
//   started + timeoutSeconds ──▶ cancel the attempt (reason "timed out after Ns"), once its
//                                 worker's stream is open (told again on every reconnect)
//   cancel sent + cancel grace + TIMEOUT_MARGIN_MS, no result ──▶ the master ends the attempt
//                                 `timeout_enforced` (outcome-policy.ts: timed_out, charged, the
//                                 task retries or fails); a late result is acked without effect
//
// The clock is the resources' (the harness drives it by hand); times run from the attempt's
// stored startedAt (the start its worker reported), so a master restart re-arms them from the
// store (`recover`). A worker that obeys the cancel reports `cancelled`; the report system
// records it as timed_out (`cancelledForTimeout`). A cancelling attempt (a person's cancel) is
// left to that cancel. An attempt whose worker is lost or removed is left to fencing: its worker
// may be cut off and running it, and it is given away only once its bound has passed.
import type { Attempt } from '../../records/attempt.js';
import type { Ending } from '../outcome-policy.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { TimerSystem } from './timer-system.js';

/** After the cancel grace, how long more the master waits for the worker's result. */
export const TIMEOUT_MARGIN_MS = 2000;

const deadlineKey = (attemptId: string): string => `timeout:${attemptId}`;
const graceKey = (attemptId: string): string => `timeout-grace:${attemptId}`;

/** Ends an attempt with an ending the master decided (the report system's endAttempt). */
export type EndAttempt = (attempt: Attempt, ending: Ending) => Promise<void>;

export class TimeoutSystem {
  /** attempts the master cancelled for their timeout: whether their grace has started (the cancel reached the worker) */
  private readonly cancelled = new Map<string, { graceStarted: boolean }>();

  constructor(
    private readonly resources: TaskSystemResources,
    private readonly timers: TimerSystem,
    private readonly end: EndAttempt,
  ) {}

  /** The attempt runs (its start was stored, or it was recovered as running): arm its timeout. */
  arm(attempt: Attempt): void {
    const task = this.resources.state.tasks.get(attempt.taskId);
    if (!task || task.timeoutSeconds <= 0 || attempt.startedAt === undefined) return;
    this.timers.set(deadlineKey(attempt.id), attempt.startedAt + task.timeoutSeconds * 1000, () => this.timedOut(attempt.id));
  }

  /** Whether the master cancelled this attempt because it ran past its timeout. */
  cancelledForTimeout(attemptId: string): boolean {
    return this.cancelled.has(attemptId);
  }

  /** The attempt ended: its timers and marks go. */
  forget(attemptId: string): void {
    this.timers.clear(deadlineKey(attemptId));
    this.timers.clear(graceKey(attemptId));
    this.cancelled.delete(attemptId);
  }

  /** The worker's stream opened: its timed-out attempts are cancelled again (and a grace not yet started starts now). */
  workerConnected(workerId: string): void {
    for (const attempt of this.resources.state.attemptsOn(workerId)) {
      if (this.cancelled.has(attempt.id) && attempt.status === 'running') this.sendCancel(attempt);
    }
  }

  private timedOut(attemptId: string): void {
    const { serial, state, logger } = this.resources;
    serial
      .run(async () => {
        const attempt = state.attempts.get(attemptId);
        if (!attempt || attempt.status !== 'running') return;
        const task = state.tasks.get(attempt.taskId);
        logger.info(
          { attemptId, taskId: attempt.taskId, workerId: attempt.workerId, timeoutSeconds: task?.timeoutSeconds },
          'the attempt ran past its timeout and its worker has not reported: cancelling it',
        );
        this.cancelled.set(attemptId, { graceStarted: false });
        this.sendCancel(attempt);
      })
      .catch((error: unknown) => logger.error({ err: error, attemptId }, 'enforcing a timeout failed'));
  }

  /** Tells the worker to stop the attempt; once it could be told, the grace runs. */
  private sendCancel(attempt: Attempt): void {
    const { registry, state, options, clock } = this.resources;
    const mark = this.cancelled.get(attempt.id);
    if (!mark) return;
    const timeoutSeconds = state.tasks.get(attempt.taskId)?.timeoutSeconds ?? 0;
    const told = registry.send(attempt.workerId, {
      kind: 'cancel',
      attemptId: attempt.id,
      reason: `timed out after ${timeoutSeconds}s`,
      graceSeconds: Math.ceil(options.cancelGraceMs / 1000),
    });
    if (!told || mark.graceStarted) return;
    mark.graceStarted = true;
    this.timers.set(graceKey(attempt.id), clock.now() + options.cancelGraceMs + TIMEOUT_MARGIN_MS, () => this.graceEnded(attempt.id));
  }

  private graceEnded(attemptId: string): void {
    const { serial, state, registry, logger } = this.resources;
    serial
      .run(async () => {
        const attempt = state.attempts.get(attemptId);
        if (!attempt || attempt.status !== 'running' || !this.cancelled.has(attemptId)) return;
        const worker = registry.get(attempt.workerId);
        if (!worker || worker.record.status === 'lost') {
          // cut off: it may be running it still; fencing gives it away once it must have stopped
          logger.info({ attemptId, workerId: attempt.workerId }, 'a timed-out attempt of a lost worker is left to fencing');
          return;
        }
        logger.warn({ attemptId, taskId: attempt.taskId, workerId: attempt.workerId }, 'no result within the cancel grace after the timeout: the master ends the attempt timed out');
        await this.end(attempt, {
          outcome: 'timeout_enforced',
          error: `timed out: no result from worker ${attempt.workerId} within the cancel grace after the master cancelled it`,
        });
      })
      .catch((error: unknown) => logger.error({ err: error, attemptId }, 'ending a timed-out attempt failed'));
  }
}
