// The master's storage running full, said once per episode: the first write that finds no room
// is logged (error, "master storage full: …", with what failed), later ones only counted; the
// next store write that goes through ends the episode (logged once, with how long it lasted and
// how many writes were refused). Nothing here decides what happens to a refused write: the store
// translates the error (storage-errors.ts), callers answer it (a 507, a worker's ReportNack).
import { isStorageFull, WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from './store.js';

interface Episode {
  since: number;
  refused: number;
}

export class StorageAlarm {
  private episode: Episode | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the master's storage is full now (a write was refused and none has gone through since). */
  get full(): boolean {
    return this.episode !== undefined;
  }

  /**
   * A write failed: answers whether it failed for lack of room. The first such failure of an
   * episode is logged with `context` (what was being written); later ones are counted.
   */
  failed(error: unknown, context: Record<string, unknown> = {}): boolean {
    if (!isStorageFull(error)) return false;
    if (this.episode) {
      this.episode.refused += 1;
      return true;
    }
    this.episode = { since: this.now(), refused: 1 };
    this.logger.error({ ...context, reason: WharfError.from(error).message }, `${WharfError.from(error).message}: writes are refused until there is room again`);
    return true;
  }

  /** A store write went through: the episode, if any, is over. */
  succeeded(): void {
    const episode = this.episode;
    if (!episode) return;
    this.episode = undefined;
    this.logger.info(
      { fullForMs: this.now() - episode.since, refusedWrites: episode.refused },
      'master storage has room again: writes go through',
    );
  }
}

/** Store methods that only read (by name); every other method writes. */
const READS = /^(get|list|find|count)/;

/**
 * The store, watched by the alarm: a method that fails for lack of room starts (or continues)
 * an episode, a write that goes through ends it. A Proxy, like metrics/timed-store.ts, so a
 * method added to the contract later is watched too.
 */
export function watchStorage<S extends Store>(store: S, alarm: StorageAlarm): S {
  // keyed by the method itself, so a method replaced on the store (a test's spy) is wrapped anew
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const cached = wrapped.get(value);
      if (cached) return cached;
      const method = value as (...args: unknown[]) => unknown;
      const writes = !READS.test(property) && property !== 'close';
      const watched = (...args: unknown[]): unknown => {
        const result = method.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (answer: unknown) => {
            // a commit refused on its conditions wrote nothing: no proof of room
            if (writes && answer !== false) alarm.succeeded();
            return answer;
          },
          (error: unknown) => {
            alarm.failed(error, { operation: property });
            throw error;
          },
        );
      };
      wrapped.set(value, watched);
      return watched;
    },
  });
}
