// A change prepared against the in-memory state, stored before it is made: its store changes
// (one conditional group), then what follows once they were stored, or once they were refused.
// Several prepared changes go to the store in one group commit (`commitPrepared`), each still
// all-or-nothing on its own conditions: a scheduling pass's placements, a round of worker reports.
import { commitGroups, type Store, type StoreChange } from '../store/store.js';

export interface PreparedChange {
  changes: StoreChange[];
  /**
   * Once stored, before `applied`: work that must come after the commit and before anyone hears
   * of the change (an attempt's output files moved into place). Must not reject.
   */
  afterCommit?: () => Promise<void>;
  /** Once stored: the in-memory state follows, workers and listeners are told. */
  applied: () => void;
  /** A condition failed: nothing was stored. */
  refused?: () => void | Promise<void>;
}

/** Stores prepared changes in one group commit, then applies, in order, those that were stored. */
export async function commitPrepared(store: Store, prepared: readonly PreparedChange[]): Promise<void> {
  if (prepared.length === 0) return;
  const stored = await commitGroups(store, prepared.map((change) => change.changes));
  await Promise.all(prepared.map((change, i) => (stored[i] ? change.afterCommit?.() : change.refused?.())));
  prepared.forEach((change, i) => {
    if (stored[i]) change.applied();
  });
}

/**
 * Several prepared changes as one: stored together or not at all (a gang's placements), then
 * applied, or refused, each in order.
 */
export function combinePrepared(parts: readonly PreparedChange[]): PreparedChange {
  return {
    changes: parts.flatMap((part) => part.changes),
    afterCommit: async () => {
      for (const part of parts) await part.afterCommit?.();
    },
    applied: () => {
      for (const part of parts) part.applied();
    },
    refused: async () => {
      for (const part of parts) await part.refused?.();
    },
  };
}
