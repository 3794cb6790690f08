// The outcome policy (Nomad keeps its restart decision in restarts.go the same way): what the
// end of an attempt means for its task. Pure — no store, no clock, no randomness of its own (the
// retry delay comes in) — so each rule is one row of ENDING_RULES and one row of
// outcome-policy.test.ts. The report system (systems/report-system.ts) applies the decision.
//
// An ending is what the worker reported (succeeded, failed, timed_out, error, cancelled, stopped) or what
// the master found (unverified: a result that did not hold up — a declared output missing, files
// that are not what the master received; the finding overrides what the worker reported, see
// endingOf) or what the master decided (timeout_enforced). A new kind of ending (preempted) is a
// new row, as `stopped` (a partitioned worker's own stop, fencing) and `timeout_enforced` were:
// its attempt status, whether a person's cancel overrides it, what it does
// to the task (succeed; charge a retry, else fail; re-queue uncharged), and the reason people see.
import type { Attempt, AttemptStatus, ReportedOutcome } from '../records/attempt.js';
import { TERMINAL_TASK_STATUSES, type RetryOn, type RetryPolicy, type Task } from '../records/task.js';

/**
 * What the worker reported, or what the master decided: `unverified` (a result that does not
 * hold up), `timeout_enforced` (the master ended an attempt that ran past its timeout and
 * whose worker did not stop it within the cancel grace) and `preempted` (the master ended it for
 * a higher-priority task; `error` names the preemptor).
 */
export type AttemptEnding = ReportedOutcome | 'unverified' | 'timeout_enforced' | 'preempted';

/** How an attempt ended: the outcome, the exit code when there is one, the error the reason names. */
export interface Ending {
  outcome: AttemptEnding;
  exitCode?: number | undefined;
  error?: string | undefined;
}

interface EndingRule {
  /** the attempt's final status */
  attemptStatus: AttemptStatus;
  /** a person cancelled the task meanwhile (attempt `cancelling`): the attempt ends `cancelled` instead */
  cancelOverrides: boolean;
  /**
   * succeed; charge = retry while retries remain (and the task's retryOn names the ending), else
   * fail and become a dead letter; requeue = run again, not charged (a `preempted` row is one)
   */
  effect: 'succeed' | 'charge' | 'requeue';
  /** the reason the task shows (for `charge`, before the retry note) */
  reason: (task: Task, ending: Ending) => string;
}

export const ENDING_RULES: Readonly<Record<AttemptEnding, EndingRule>> = {
  succeeded: { attemptStatus: 'succeeded', cancelOverrides: false, effect: 'succeed', reason: (_task, ending) => `exit code ${ending.exitCode}` },
  // the worker's reason names what ended it when the runtime knows (out of memory (limit 32Mi), a
  // disk limit, a kill from outside); the exit code follows
  failed: {
    attemptStatus: 'failed',
    cancelOverrides: true,
    effect: 'charge',
    reason: (_task, ending) => `${ending.error ? `${ending.error}; ` : ''}exit code ${ending.exitCode ?? 'unknown'}`,
  },
  timed_out: { attemptStatus: 'timed_out', cancelOverrides: true, effect: 'charge', reason: (task) => `timed out after ${task.timeoutSeconds}s` },
  error: { attemptStatus: 'error', cancelOverrides: true, effect: 'charge', reason: (_task, ending) => ending.error ?? 'the worker could not run it' },
  // the worker stopped it without being asked (it was shutting down): not the task's fault
  cancelled: { attemptStatus: 'cancelled', cancelOverrides: true, effect: 'requeue', reason: () => 'its worker stopped it; re-queued' },
  // the worker lost contact with the master and stopped it before the master gave it away
  // (fencing): not the task's fault either; the worker's message says how long it was cut off
  stopped: {
    attemptStatus: 'stopped',
    cancelOverrides: true,
    effect: 'requeue',
    reason: (_task, ending) => `${ending.error ?? 'its worker lost contact with the master'}; re-queued`,
  },
  // the master found the result does not hold up: a success missing a declared output or a direct
  // upload, or, whatever the worker reported, files that are not what the master received (or
  // outputs past their cap). A failure, charged; a worker's `cancelled` report whose files do not
  // verify is charged too, not re-queued for free
  unverified: { attemptStatus: 'failed', cancelOverrides: false, effect: 'charge', reason: (_task, ending) => ending.error ?? 'the result did not hold up' },
  // the attempt ran past the task's timeout, the master cancelled it (the worker's own timeout
  // had not ended it) and no result came within the cancel grace: the master ends it timed out
  // itself (timers: systems/timeout-system.ts). Charged like the worker's timed_out (retryOn
  // names it `timed_out`, see retriedOn; with no retry left it is a dead letter); a late result
  // is acknowledged without effect
  timeout_enforced: {
    attemptStatus: 'timed_out',
    cancelOverrides: true,
    effect: 'charge',
    reason: (task) => `timed out after ${task.timeoutSeconds}s (ended by the master: its worker did not stop it)`,
  },
  // priority preemption ended it (SIGTERM, the grace, SIGKILL) so a higher-priority task could
  // run: not the task's fault, re-queued at once and not charged, even on its last retry; the
  // ending's error names the preemptor. A person's cancel meanwhile wins (cancelled). The
  // ending of a `cancelled` result for an attempt in `preempting` (report-system.ts)
  preempted: {
    attemptStatus: 'preempted',
    cancelOverrides: true,
    effect: 'requeue',
    reason: (_task, ending) => `${ending.error ?? 'preempted by a higher-priority task'}; re-queued`,
  },
};

export type OutcomeDecision =
  | { kind: 'succeed'; attemptStatus: AttemptStatus }
  /** back to the queue after `delayMs`, charged to the task's retries */
  | { kind: 'retry'; attemptStatus: AttemptStatus; reason: string; delayMs: number; retriesUsed: number }
  /**
   * the task fails; `retriesUsed` is what it used (the last failure is not a retry, so never
   * above maxRetries); `deadLetter`: it goes to the dead letters (every policy failure except a
   * DAG task's: its run fails with it and is re-run as a run)
   */
  | { kind: 'fail'; attemptStatus: AttemptStatus; reason: string; retriesUsed: number; deadLetter: boolean }
  /** back to the queue at once, not charged */
  | { kind: 'requeue'; attemptStatus: AttemptStatus; reason: string }
  /** the task has moved on (cancelled, ended, or on another attempt): only the attempt is recorded */
  | { kind: 'settle'; attemptStatus: AttemptStatus };

/** Reported endings that are the task's own failure, with the worker's account of why. */
const FAILURES_WITH_A_CAUSE: ReadonlySet<AttemptEnding> = new Set(['failed', 'timed_out', 'error']);

/**
 * The ending of a worker's result: what it reported, unless the master found the result does not
 * hold up (`finding`: why). The finding overrides every reported outcome, `cancelled` included:
 * a result whose files do not verify is a charged failure, never a free re-queue. The exit code
 * stays the worker's. When the worker reported a failure of the task with its cause (out of
 * memory, a disk limit, a kill from outside), the reason names that cause first and the finding
 * after it (once: a worker that passes on the master's refusal already says it), so a task the
 * disk watcher stopped does not read as if only its outputs were refused.
 */
export function endingOf(reported: Ending, finding: string | undefined): Ending {
  if (!finding) return reported;
  const cause = FAILURES_WITH_A_CAUSE.has(reported.outcome) ? reported.error : undefined;
  const error = !cause ? finding : cause.includes(finding) ? cause : `${cause}; ${finding}`;
  return { outcome: 'unverified', exitCode: reported.exitCode, error };
}

/**
 * What the end of `attempt` means for `task`. `retryDelayMs(n)`: how long the n-th retry waits
 * (see retryDelayMs below; injected so the decision stays pure).
 */
export function decideOutcome(task: Task, attempt: Attempt, ending: Ending, retryDelayMs: (retry: number) => number): OutcomeDecision {
  const rule = ENDING_RULES[ending.outcome];
  const cancelling = attempt.status === 'cancelling';
  const attemptStatus = cancelling && rule.cancelOverrides ? 'cancelled' : rule.attemptStatus;
  if (cancelling || TERMINAL_TASK_STATUSES.has(task.status) || task.currentAttemptId !== attempt.id) return { kind: 'settle', attemptStatus };
  switch (rule.effect) {
    case 'succeed':
      return { kind: 'succeed', attemptStatus };
    case 'requeue':
      return { kind: 'requeue', attemptStatus, reason: rule.reason(task, ending) };
    case 'charge': {
      const why = rule.reason(task, ending);
      const fail = (reason: string): OutcomeDecision => ({ kind: 'fail', attemptStatus, reason, retriesUsed: task.retriesUsed, deadLetter: task.dagId === undefined && task.gangId === undefined });
      const retryOn = task.retryPolicy?.retryOn;
      if (retryOn && !retriedOn(retryOn, ending)) return fail(`${why}; not retried (${describeRetryOn(retryOn)})`);
      if (task.retriesUsed >= task.maxRetries) return fail(why);
      const retriesUsed = task.retriesUsed + 1;
      const delayMs = retryDelayMs(retriesUsed);
      const reason = `${why}; retry ${retriesUsed} of ${task.maxRetries} in ${Math.ceil(delayMs / 1000)}s`;
      return { kind: 'retry', attemptStatus, reason, delayMs, retriesUsed };
    }
  }
}

/**
 * The ending is one the task's retryOn retries. The master's own end of a timed-out attempt
 * (timeout_enforced) counts as `timed_out`, the name a policy gives it: a timeout is retried the
 * same whichever side stopped the task.
 */
export function retriedOn(retryOn: RetryOn, ending: Ending): boolean {
  const outcome = ending.outcome === 'timeout_enforced' ? 'timed_out' : ending.outcome;
  if (retryOn.outcomes?.some((named) => named === outcome)) return true;
  return ending.outcome === 'failed' && ending.exitCode !== undefined && (retryOn.exitCodes?.includes(ending.exitCode) ?? false);
}

/** "retryOn: exit codes 1, 137; timed_out" — what the reason of an ending not retried names. */
export function describeRetryOn(retryOn: RetryOn): string {
  const parts: string[] = [];
  if (retryOn.exitCodes && retryOn.exitCodes.length > 0) parts.push(`exit code${retryOn.exitCodes.length > 1 ? 's' : ''} ${retryOn.exitCodes.join(', ')}`);
  if (retryOn.outcomes && retryOn.outcomes.length > 0) parts.push(retryOn.outcomes.join(', '));
  return `retryOn: ${parts.join('; ') || 'nothing'}`;
}

/** The backoff a task's retries follow, as the master's defaults give it. */
export interface BackoffDefaults {
  baseMs: number;
  maxMs: number;
}

/** The multiplier of a task whose policy does not name one (and of tasks stored before policies). */
export const DEFAULT_BACKOFF_MULTIPLIER = 2;

/** The task's retry policy, complete: its own, or (stored before policies) the master's defaults. */
export function retryPolicyOf(task: Pick<Task, 'maxRetries' | 'retryPolicy'>, defaults: BackoffDefaults): RetryPolicy {
  return {
    maxRetries: task.maxRetries,
    backoffSeconds: task.retryPolicy?.backoffSeconds ?? defaults.baseMs / 1000,
    backoffMultiplier: task.retryPolicy?.backoffMultiplier ?? DEFAULT_BACKOFF_MULTIPLIER,
    maxBackoffSeconds: task.retryPolicy?.maxBackoffSeconds ?? defaults.maxMs / 1000,
    ...(task.retryPolicy?.retryOn ? { retryOn: task.retryPolicy.retryOn } : {}),
  };
}

/**
 * The wait before the n-th retry (n ≥ 1): exponential backoff with jitter,
 * base·multiplier^(n-1) capped at `maxMs`, then 50–100 % of that. `random` answers in [0, 1).
 */
export function retryDelayMs(retry: number, backoff: { baseMs: number; maxMs: number; multiplier?: number | undefined }, random: () => number): number {
  const multiplier = backoff.multiplier ?? DEFAULT_BACKOFF_MULTIPLIER;
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * multiplier ** (retry - 1));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/** The wait before the n-th retry of `task`, by its policy (see retryDelayMs). */
export function taskRetryDelayMs(task: Pick<Task, 'maxRetries' | 'retryPolicy'>, retry: number, defaults: BackoffDefaults, random: () => number): number {
  const policy = retryPolicyOf(task, defaults);
  return retryDelayMs(retry, { baseMs: policy.backoffSeconds * 1000, maxMs: policy.maxBackoffSeconds * 1000, multiplier: policy.backoffMultiplier }, random);
}
