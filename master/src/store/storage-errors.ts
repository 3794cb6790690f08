// Store error translation: each store names its driver's "out of space" error `storage_full`
// (errors.ts storageFull), so everything above the store — the report system's negative answers
// to workers, the 507 of a submission, the once-per-episode log line — sees one code, whatever
// the store. Only the translation lives here; what to do about it is decided by the callers.
import { storageFull } from '../errors.js';

/**
 * The store, with every method's failure passed through `translate` (a Proxy, so a method added
 * to the Store contract later is covered too). Methods run on the real store (`this` is the
 * target), so private fields work as without the wrapper. Non-function properties pass through.
 */
export function translateStoreErrors<S extends object>(store: S, translate: (error: unknown) => unknown): S {
  // keyed by the method itself, so a method replaced on the store (a test's spy) is wrapped anew
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const cached = wrapped.get(value);
      if (cached) return cached;
      const method = value as (...args: unknown[]) => unknown;
      const translated = (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = method.apply(target, args);
        } catch (error: unknown) {
          throw translate(error);
        }
        return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(translate(error))) : result;
      };
      wrapped.set(value, translated);
      return translated;
    },
  });
}

/** SQLite's "database or disk is full" (better-sqlite3 `SqliteError.code`), as `storage_full`; anything else unchanged. */
export function sqliteStorageError(error: unknown): unknown {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return code === 'SQLITE_FULL' ? storageFull('the database cannot grow (SQLITE_FULL)', error) : error;
}

/**
 * MongoDB out of disk space (server error 14031 `OutOfDiskSpace`, or a write error that says "No
 * space left on device"), as `storage_full`; anything else unchanged.
 */
export function mongoStorageError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const code = 'code' in error ? error.code : undefined;
  const codeName = 'codeName' in error ? error.codeName : undefined;
  const message = error instanceof Error ? error.message : '';
  if (code === 14031 || codeName === 'OutOfDiskSpace' || /no space left on device/i.test(message)) {
    return storageFull('MongoDB is out of disk space', error);
  }
  return error;
}
