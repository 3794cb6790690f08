// Original file: wharf.proto


/**
 * Stop this attempt: SIGTERM (or the runtime's stop), grace_seconds, then SIGKILL; upload what
 * it wrote and report outcome "cancelled" (a result the master needs to release the task's
 * reservation). reason: "cancelled by <user>", "timed out after Ns" (the master's timeout,
 * rule 10), or "preempted by task <id> (priority P, queue Q)" (priority preemption: the master
 * records the "cancelled" result as preempted). An attempt the worker does not hold: report nothing.
 */
export interface CancelAttempt {
  'attemptId'?: (string);
  'reason'?: (string);
  'graceSeconds'?: (number);
}

/**
 * Stop this attempt: SIGTERM (or the runtime's stop), grace_seconds, then SIGKILL; upload what
 * it wrote and report outcome "cancelled" (a result the master needs to release the task's
 * reservation). reason: "cancelled by <user>", "timed out after Ns" (the master's timeout,
 * rule 10), or "preempted by task <id> (priority P, queue Q)" (priority preemption: the master
 * records the "cancelled" result as preempted). An attempt the worker does not hold: report nothing.
 */
export interface CancelAttempt__Output {
  'attemptId': (string);
  'reason': (string);
  'graceSeconds': (number);
}
