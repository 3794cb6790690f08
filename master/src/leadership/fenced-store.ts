// The fence of several masters: every commit and commitMany of this master carries its lease
// epoch as a condition (an `expectLeaseEpoch` change put first in each group), added here, in
// one place, so no task system, DAG service or later code can forget it. A master without an
// epoch (a standby) cannot commit at all; a commit the store refuses for the epoch throws
// WharfError('not_leader') and tells the leadership, which steps down.
//
// The garbage collector's deletes are fenced here too (see fencedDelete). A Proxy (like
// metrics/timed-store.ts) so every other Store method passes through unchanged.
import { WharfError } from '../errors.js';
import type { Store, StoreChange } from '../store/store.js';

export interface Fence {
  /** the lease's name in the store */
  readonly leaseName: string;
  /** the epoch this master leads in, or undefined when it does not lead */
  epoch(): number | undefined;
  /** a commit was refused for the epoch: the lease is someone else's */
  refused(error: WharfError): void;
}

export function fenceCommits<S extends Store>(store: S, fence: Fence): S {
  const guard = (): StoreChange => {
    const epoch = fence.epoch();
    if (epoch === undefined) throw new WharfError('not_leader', 'this master does not lead (it is a standby): it changes nothing; the leader does');
    return { kind: 'expectLeaseEpoch', name: fence.leaseName, epoch };
  };
  const noticed = (error: unknown): never => {
    if (error instanceof WharfError && error.code === 'not_leader') fence.refused(error);
    throw error;
  };
  const commit = async (changes: readonly StoreChange[]): Promise<boolean> => {
    const condition = guard();
    return store.commit([condition, ...changes]).catch(noticed);
  };
  const commitMany = store.commitMany
    ? async (groups: readonly (readonly StoreChange[])[]): Promise<boolean[]> => {
        const condition = guard();
        return store.commitMany!(groups.map((group) => [condition, ...group])).catch(noticed);
      }
    : undefined;
  // the garbage collector's deletes (store.ts, retention section) are leader writes outside
  // `commit`: a standby cannot make them, and the leader checks its epoch against the stored
  // lease just before each batch (a check, not a condition inside the delete's transaction: a
  // takeover in between could still see one batch of finished records deleted — finished
  // records only, which the new leader would collect too)
  const fencedDelete =
    <A extends unknown[], R>(remove: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const condition = guard() as Extract<StoreChange, { kind: 'expectLeaseEpoch' }>;
      const lease = await store.readLease(fence.leaseName);
      if (lease?.epoch !== condition.epoch) {
        noticed(new WharfError('not_leader', `delete refused: lease ${fence.leaseName} is at epoch ${lease?.epoch ?? 'none'}, not ${condition.epoch} (another master leads)`));
      }
      return remove(...args);
    };
  const deleteFinishedTasks = fencedDelete(store.deleteFinishedTasks.bind(store));
  const deleteFinishedDags = fencedDelete(store.deleteFinishedDags.bind(store));
  return new Proxy(store, {
    get(target, property) {
      if (property === 'commit') return commit;
      if (property === 'commitMany') return commitMany;
      if (property === 'deleteFinishedTasks') return deleteFinishedTasks;
      if (property === 'deleteFinishedDags') return deleteFinishedDags;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
