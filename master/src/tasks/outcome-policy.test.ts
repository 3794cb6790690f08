import { describe, expect, it } from 'vitest';
import type { Attempt, AttemptStatus } from '../records/attempt.js';
import type { Task } from '../records/task.js';
import { decideOutcome, endingOf, ENDING_RULES, retryDelayMs, retryPolicyOf, taskRetryDelayMs, type Ending, type OutcomeDecision } from './outcome-policy.js';

function mockTask(patch: Partial<Task> = {}): Task {
  return {
    id: 'task-1',
    name: 'job',
    userId: 'user-1',
    image: 'wharf/busybox:latest',
    command: [],
    env: {},
    runtime: 'docker',
    labels: {},
    status: 'running',
    priority: 50,
    resources: { cpu: 1, memory: 0, gpu: 0, disk: 0 },
    maxRetries: 2,
    timeoutSeconds: 10,
    retriesUsed: 0,
    createdAt: 0,
    attemptCount: 1,
    queue: 'default',
    workerId: 'w-1',
    currentAttemptId: 'attempt-1',
    ...patch,
  };
}

function mockAttempt(status: AttemptStatus = 'running', id = 'attempt-1'): Attempt {
  return { id, taskId: 'task-1', number: 1, workerId: 'w-1', status, resources: { cpu: 1, memory: 0, gpu: 0, disk: 0 }, createdAt: 0 };
}

/** The n-th retry waits n × 1500 ms: fixed, so reasons and delays can be read off the table. */
const delay = (retry: number): number => retry * 1500;

interface Row {
  when: string;
  task?: Partial<Task>;
  attempt?: AttemptStatus;
  attemptId?: string;
  ending: Ending;
  decision: OutcomeDecision;
}

const ROWS: Row[] = [
  { when: 'exit 0', ending: { outcome: 'succeeded', exitCode: 0 }, decision: { kind: 'succeed', attemptStatus: 'succeeded' } },
  {
    when: 'a non-zero exit with retries left',
    ending: { outcome: 'failed', exitCode: 3 },
    decision: { kind: 'retry', attemptStatus: 'failed', reason: 'exit code 3; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'a non-zero exit on the last retry',
    task: { retriesUsed: 1 },
    ending: { outcome: 'failed', exitCode: 3 },
    decision: { kind: 'retry', attemptStatus: 'failed', reason: 'exit code 3; retry 2 of 2 in 3s', delayMs: 3000, retriesUsed: 2 },
  },
  {
    when: 'a non-zero exit with no retry left',
    task: { retriesUsed: 2 },
    ending: { outcome: 'failed', exitCode: 3 },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'exit code 3', retriesUsed: 2, deadLetter: true },
  },
  {
    when: 'a failure without an exit code, no retries',
    task: { maxRetries: 0 },
    ending: { outcome: 'failed' },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'exit code unknown', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'the runtime says why it failed (out of memory), no retries',
    task: { maxRetries: 0 },
    ending: { outcome: 'failed', exitCode: 137, error: 'out of memory (limit 32Mi)' },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'out of memory (limit 32Mi); exit code 137', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'it passed its disk limit, with retries left',
    ending: { outcome: 'failed', exitCode: 137, error: 'disk limit 10Mi exceeded (wrote 12Mi)' },
    decision: { kind: 'retry', attemptStatus: 'failed', reason: 'disk limit 10Mi exceeded (wrote 12Mi); exit code 137; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'the worker timed it out, no retries',
    task: { maxRetries: 0, timeoutSeconds: 30 },
    ending: { outcome: 'timed_out', exitCode: 137 },
    decision: { kind: 'fail', attemptStatus: 'timed_out', reason: 'timed out after 30s', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'the master ended it past its timeout (its worker did not stop it), retries left',
    task: { timeoutSeconds: 30 },
    ending: { outcome: 'timeout_enforced', error: 'no result within the cancel grace' },
    decision: {
      kind: 'retry',
      attemptStatus: 'timed_out',
      reason: 'timed out after 30s (ended by the master: its worker did not stop it); retry 1 of 2 in 2s',
      delayMs: 1500,
      retriesUsed: 1,
    },
  },
  {
    when: 'the master ended it past its timeout, no retry left',
    task: { timeoutSeconds: 30, retriesUsed: 2 },
    ending: { outcome: 'timeout_enforced' },
    decision: { kind: 'fail', attemptStatus: 'timed_out', reason: 'timed out after 30s (ended by the master: its worker did not stop it)', retriesUsed: 2, deadLetter: true },
  },
  {
    when: 'the worker could not run it (with its error)',
    task: { maxRetries: 0 },
    ending: { outcome: 'error', error: 'image not found' },
    decision: { kind: 'fail', attemptStatus: 'error', reason: 'image not found', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'the worker could not run it (no error given), retries left',
    ending: { outcome: 'error' },
    decision: { kind: 'retry', attemptStatus: 'error', reason: 'the worker could not run it; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'its worker stopped it unasked (shutting down)',
    task: { retriesUsed: 2 },
    ending: { outcome: 'cancelled', exitCode: 143 },
    decision: { kind: 'requeue', attemptStatus: 'cancelled', reason: 'its worker stopped it; re-queued' },
  },
  {
    when: 'its worker lost the master and stopped it itself (fencing), on the last retry',
    task: { retriesUsed: 2 },
    ending: { outcome: 'stopped', exitCode: 143, error: 'stopped: no contact with the master for 15s (--stop-after 15s)' },
    decision: { kind: 'requeue', attemptStatus: 'stopped', reason: 'stopped: no contact with the master for 15s (--stop-after 15s); re-queued' },
  },
  {
    when: 'priority preemption ended it on its last retry: re-queued, not charged, the reason names the preemptor',
    task: { retriesUsed: 2 },
    ending: { outcome: 'preempted', exitCode: 143, error: 'preempted by task hi-1 (priority 90, queue urgent)' },
    decision: { kind: 'requeue', attemptStatus: 'preempted', reason: 'preempted by task hi-1 (priority 90, queue urgent); re-queued' },
  },
  {
    when: 'priority preemption ended it, no preemptor named',
    ending: { outcome: 'preempted' },
    decision: { kind: 'requeue', attemptStatus: 'preempted', reason: 'preempted by a higher-priority task; re-queued' },
  },
  {
    when: 'its worker stopped it when cut off, without saying why',
    ending: { outcome: 'stopped' },
    decision: { kind: 'requeue', attemptStatus: 'stopped', reason: 'its worker lost contact with the master; re-queued' },
  },
  {
    when: 'it said succeeded but did not hold up (a declared output missing)',
    task: { maxRetries: 0 },
    ending: { outcome: 'unverified', exitCode: 0, error: 'declared output "model.bin" not written to /output' },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'declared output "model.bin" not written to /output', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'it did not hold up, retries left',
    ending: { outcome: 'unverified', exitCode: 0, error: 'declared output "a" not written to /output' },
    decision: { kind: 'retry', attemptStatus: 'failed', reason: 'declared output "a" not written to /output; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'its worker stopped it unasked, but its files do not verify',
    ending: endingOf({ outcome: 'cancelled', exitCode: 143 }, 'result does not match the uploaded files: file out.txt is listed in the result (3 bytes, sha256 none) but never arrived'),
    decision: {
      kind: 'retry',
      attemptStatus: 'failed',
      reason: 'result does not match the uploaded files: file out.txt is listed in the result (3 bytes, sha256 none) but never arrived; retry 1 of 2 in 2s',
      delayMs: 1500,
      retriesUsed: 1,
    },
  },
  {
    when: 'a non-zero exit whose outputs passed their cap, no retry left',
    task: { retriesUsed: 2 },
    ending: endingOf({ outcome: 'failed', exitCode: 1 }, 'outputs of attempt attempt-1 exceed the cap of 10 bytes (10B, WHARF_MAX_OUTPUT_BYTES)'),
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'outputs of attempt attempt-1 exceed the cap of 10 bytes (10B, WHARF_MAX_OUTPUT_BYTES)', retriesUsed: 2, deadLetter: true },
  },
  // the retry policy's retryOn: only the endings it names are retried
  {
    when: 'an exit code retryOn names, retries left',
    task: { retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { exitCodes: [75] } } },
    ending: { outcome: 'failed', exitCode: 75 },
    decision: { kind: 'retry', attemptStatus: 'failed', reason: 'exit code 75; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'an exit code retryOn does not name, retries left: failed at once, not charged',
    task: { retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { exitCodes: [75, 137] } } },
    ending: { outcome: 'failed', exitCode: 1 },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'exit code 1; not retried (retryOn: exit codes 75, 137)', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'a timeout when retryOn names timed_out only',
    task: { retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { outcomes: ['timed_out'] } } },
    ending: { outcome: 'timed_out', exitCode: 137 },
    decision: { kind: 'retry', attemptStatus: 'timed_out', reason: 'timed out after 10s; retry 1 of 2 in 2s', delayMs: 1500, retriesUsed: 1 },
  },
  {
    when: 'the master ended it past its timeout when retryOn names timed_out only: retried like the worker\'s timeout',
    task: { timeoutSeconds: 30, retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { outcomes: ['timed_out'] } } },
    ending: { outcome: 'timeout_enforced' },
    decision: {
      kind: 'retry',
      attemptStatus: 'timed_out',
      reason: 'timed out after 30s (ended by the master: its worker did not stop it); retry 1 of 2 in 2s',
      delayMs: 1500,
      retriesUsed: 1,
    },
  },
  {
    when: 'the master ended it past its timeout when retryOn names exit codes only: failed at once, a dead letter',
    task: { timeoutSeconds: 30, retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { exitCodes: [75] } } },
    ending: { outcome: 'timeout_enforced' },
    decision: {
      kind: 'fail',
      attemptStatus: 'timed_out',
      reason: 'timed out after 30s (ended by the master: its worker did not stop it); not retried (retryOn: exit code 75)',
      retriesUsed: 0,
      deadLetter: true,
    },
  },
  {
    when: 'a worker error when retryOn names exit codes only',
    task: { retryPolicy: { backoffSeconds: 1, backoffMultiplier: 2, maxBackoffSeconds: 10, retryOn: { exitCodes: [1] } } },
    ending: { outcome: 'error', error: 'image not found' },
    decision: { kind: 'fail', attemptStatus: 'error', reason: 'image not found; not retried (retryOn: exit code 1)', retriesUsed: 0, deadLetter: true },
  },
  {
    when: 'a DAG task with no retry left: failed, not a dead letter (its run fails with it)',
    task: { retriesUsed: 2, dagId: 'dag-1' },
    ending: { outcome: 'failed', exitCode: 3 },
    decision: { kind: 'fail', attemptStatus: 'failed', reason: 'exit code 3', retriesUsed: 2, deadLetter: false },
  },
  // a person cancelled the task: the task has ended already; only the attempt is recorded
  {
    when: 'cancelled by a person, the task then exited non-zero',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'failed', exitCode: 143 },
    decision: { kind: 'settle', attemptStatus: 'cancelled' },
  },
  {
    when: 'cancelled by a person, the worker confirms the stop',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'cancelled' },
    decision: { kind: 'settle', attemptStatus: 'cancelled' },
  },
  {
    when: 'cancelled by a person while being preempted: the person\'s cancel wins',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'preempted', exitCode: 143, error: 'preempted by task hi-1' },
    decision: { kind: 'settle', attemptStatus: 'cancelled' },
  },
  {
    when: 'cancelled by a person, then its worker was cut off and stopped it',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'stopped', exitCode: 143, error: 'stopped: no contact with the master for 15s (--stop-after 15s)' },
    decision: { kind: 'settle', attemptStatus: 'cancelled' },
  },
  {
    when: 'its worker stopped it when cut off, but its files do not verify',
    ending: endingOf({ outcome: 'stopped', exitCode: 143 }, 'result does not match the uploaded files: file out.txt was never uploaded'),
    decision: {
      kind: 'retry',
      attemptStatus: 'failed',
      reason: 'result does not match the uploaded files: file out.txt was never uploaded; retry 1 of 2 in 2s',
      delayMs: 1500,
      retriesUsed: 1,
    },
  },
  {
    when: 'cancelled by a person, the task had succeeded before it stopped',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'succeeded', exitCode: 0 },
    decision: { kind: 'settle', attemptStatus: 'succeeded' },
  },
  {
    when: 'cancelled by a person, its success did not hold up',
    task: { status: 'cancelled' },
    attempt: 'cancelling',
    ending: { outcome: 'unverified', exitCode: 0, error: 'declared output "a" not written to /output' },
    decision: { kind: 'settle', attemptStatus: 'failed' },
  },
  {
    when: 'the task is on another attempt',
    task: { currentAttemptId: 'attempt-2' },
    ending: { outcome: 'failed', exitCode: 1 },
    decision: { kind: 'settle', attemptStatus: 'failed' },
  },
  {
    when: 'the task has already ended',
    task: { status: 'succeeded' },
    ending: { outcome: 'succeeded', exitCode: 0 },
    decision: { kind: 'settle', attemptStatus: 'succeeded' },
  },
];

describe('decideOutcome', () => {
  it.each(ROWS)('$when → $decision.kind', (row) => {
    expect(decideOutcome(mockTask(row.task), mockAttempt(row.attempt, row.attemptId), row.ending, delay)).toEqual(row.decision);
  });

  it('has a row for every ending it knows', () => {
    const covered = new Set(ROWS.map((row) => row.ending.outcome));
    expect([...covered].sort()).toEqual(Object.keys(ENDING_RULES).sort());
  });

  it('asks for a delay only when it retries', () => {
    const asked: number[] = [];
    const spy = (retry: number): number => {
      asked.push(retry);
      return 10;
    };
    decideOutcome(mockTask({ retriesUsed: 2 }), mockAttempt(), { outcome: 'failed', exitCode: 1 }, spy);
    decideOutcome(mockTask(), mockAttempt(), { outcome: 'cancelled' }, spy);
    decideOutcome(mockTask(), mockAttempt(), { outcome: 'stopped' }, spy);
    decideOutcome(mockTask({ retriesUsed: 1 }), mockAttempt(), { outcome: 'failed', exitCode: 1 }, spy);
    expect(asked).toEqual([2]);
  });

  it('never answers retriesUsed above maxRetries: the failure after the last retry is not a retry', () => {
    for (const maxRetries of [0, 1, 2, 5]) {
      let task = mockTask({ maxRetries });
      let decision: OutcomeDecision;
      let attempts = 0;
      do {
        attempts += 1;
        decision = decideOutcome(task, mockAttempt(), { outcome: 'failed', exitCode: 1 }, delay);
        if (decision.kind === 'retry' || decision.kind === 'fail') {
          expect(decision.retriesUsed).toBeLessThanOrEqual(maxRetries);
          task = mockTask({ maxRetries, retriesUsed: decision.retriesUsed });
        }
      } while (decision.kind === 'retry');
      expect(decision).toMatchObject({ kind: 'fail', retriesUsed: maxRetries });
      expect(attempts).toBe(maxRetries + 1);
    }
  });
});

describe('endingOf', () => {
  it('is what the worker reported when the master found nothing', () => {
    const reported: Ending = { outcome: 'cancelled', exitCode: 143 };
    expect(endingOf(reported, undefined)).toBe(reported);
  });

  it.each(['succeeded', 'cancelled', 'stopped'] as const)('turns a %s report the master found wrong into unverified, keeping its exit code', (outcome) => {
    expect(endingOf({ outcome, exitCode: 7, error: 'from the worker' }, 'file a: the result claims …')).toEqual({
      outcome: 'unverified',
      exitCode: 7,
      error: 'file a: the result claims …',
    });
  });

  it.each(['failed', 'timed_out', 'error'] as const)('turns a %s report the master found wrong into unverified, naming the worker\'s cause first', (outcome) => {
    expect(endingOf({ outcome, exitCode: 137, error: 'disk limit 10Mi exceeded (wrote 24Mi)' }, 'outputs of attempt a exceed the cap of 10485760 bytes')).toEqual({
      outcome: 'unverified',
      exitCode: 137,
      error: 'disk limit 10Mi exceeded (wrote 24Mi); outputs of attempt a exceed the cap of 10485760 bytes',
    });
    // a failure without a cause of its own: the finding alone
    expect(endingOf({ outcome, exitCode: 1 }, 'file a: the result claims …').error).toBe('file a: the result claims …');
  });

  it('names the finding once when the worker passed the master\'s refusal on in its own reason', () => {
    const refusal = 'outputs of attempt a exceed the cap of 10485760 bytes (10Mi, the task\'s disk request)';
    const reported: Ending = { outcome: 'failed', exitCode: 137, error: `disk limit 10Mi exceeded (wrote 24Mi); output upload refused: ${refusal}` };
    expect(endingOf(reported, refusal).error).toBe(reported.error);
  });
});

describe('retryDelayMs', () => {
  const backoff = { baseMs: 1000, maxMs: 10_000 };
  it.each([
    { retry: 1, random: 0, ms: 500 },
    { retry: 1, random: 0.999_999, ms: 1000 },
    { retry: 2, random: 0, ms: 1000 },
    { retry: 3, random: 0.5, ms: 3000 },
    { retry: 4, random: 0, ms: 4000 },
    { retry: 5, random: 0, ms: 5000 },
    { retry: 9, random: 0.999_999, ms: 10_000 },
  ])('retry $retry with random $random waits $ms ms', ({ retry, random, ms }) => {
    expect(retryDelayMs(retry, backoff, () => random)).toBe(ms);
  });
});

describe('a task\'s retry policy', () => {
  const defaults = { baseMs: 5000, maxMs: 60_000 };

  it('backs off by its own base, multiplier and cap', () => {
    const task = { maxRetries: 5, retryPolicy: { backoffSeconds: 2, backoffMultiplier: 3, maxBackoffSeconds: 30 } };
    // random 0.999999: the whole ceiling (no jitter taken off)
    expect([1, 2, 3, 4].map((n) => taskRetryDelayMs(task, n, defaults, () => 0.999_999))).toEqual([2000, 6000, 18_000, 30_000]);
  });

  it('is the master\'s defaults for a task stored before policies existed', () => {
    expect(retryPolicyOf({ maxRetries: 2 }, defaults)).toEqual({ maxRetries: 2, backoffSeconds: 5, backoffMultiplier: 2, maxBackoffSeconds: 60 });
    expect(taskRetryDelayMs({ maxRetries: 2 }, 2, defaults, () => 0.999_999)).toBe(10_000);
  });
});
