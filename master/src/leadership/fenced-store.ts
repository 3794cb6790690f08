// The fence of several masters: every commit and commitMany of this master carries its lease
// epoch as a condition (an `expectLeaseEpoch` change put first in each group), added here, in
// one place, so no task system, DAG service or later code can forget it. A master without an
// epoch (a standby) cannot commit at all; a commit the store refuses for the epoch throws
// WharfError('not_leader') and tells the leadership, which steps down.
//
// A Proxy (like metrics/timed-store.ts) so every other Store method passes through unchanged.
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
  return new Proxy(store, {
    get(target, property) {
      if (property === 'commit') return commit;
      if (property === 'commitMany') return commitMany;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
