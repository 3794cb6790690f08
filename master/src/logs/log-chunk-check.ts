// The worker's count of an attempt's log chunks against what the master applied (issue 12
// point 5). Fewer applied than sent does not fail the task (its outcome is the task's, not the
// log's); the gap is made visible instead: a system line in the task's log and
// `logChunksMissing` on the attempt.

export interface LogChunkCheck {
  /** chunks the worker sent that the master never applied (0 when all arrived) */
  missing: number;
  /** the system line for the task's log when the counts disagree */
  note?: string;
}

export function checkLogChunks(sent: number, received: number): LogChunkCheck {
  if (sent === received) return { missing: 0 };
  const plural = (n: number) => `${n} log chunk${n === 1 ? '' : 's'}`;
  return { missing: Math.max(0, sent - received), note: `wharf: the worker sent ${plural(sent)}, the master received ${received}` };
}
