// Which finished records retention removes, as pure decisions the collector applies
// (gc/garbage-collector.ts). Records are walked oldest finished first; one kind's rule expires a
// record when it finished before the age bound, or when it is among the oldest records beyond
// the count bound. Both bounds only ever expire a prefix of that order, so the walk stops at the
// first record the rule keeps.

export interface ExpiryRule {
  /** records that finished before this (epoch ms) expire; undefined = no age bound */
  finishedBefore: number | undefined;
  /** the first `overCount` records of the walk (the oldest) expire: those beyond the count bound */
  overCount: number;
}

/**
 * The rule of one kind at `now`: `ageMs` (undefined = no age bound), `keepCount` (undefined = no
 * count bound) and `total`, how many records the count bound counts.
 */
export function expiryRule(now: number, ageMs: number | undefined, keepCount: number | undefined, total: number): ExpiryRule {
  return {
    finishedBefore: ageMs === undefined ? undefined : now - ageMs,
    overCount: keepCount === undefined ? 0 : Math.max(0, total - keepCount),
  };
}

/** Whether the record at `position` (0 = the oldest counted record) of the walk expires. */
export function expires(rule: ExpiryRule, finishedAt: number, position: number): boolean {
  return (rule.finishedBefore !== undefined && finishedAt < rule.finishedBefore) || position < rule.overCount;
}

/** Whether the rule can expire anything at all (else the walk need not start). */
export function expiresAny(rule: ExpiryRule): boolean {
  return rule.finishedBefore !== undefined || rule.overCount > 0;
}
