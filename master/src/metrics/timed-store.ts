// Store-operation latency for GET /metrics: wraps any Store so that every method that answers a
// promise is timed (wharf_store_operation_seconds{operation,result}). A Proxy rather than a
// hand-written class, so a method added to the Store contract (or an optional one such as
// commitMany, present only on some stores) is timed or absent exactly as on the wrapped store.
import type { Store } from '../store/store.js';

export type StoreOperationObserver = (operation: string, seconds: number, ok: boolean) => void;

export function timeStoreOperations<S extends Store>(store: S, observe: StoreOperationObserver): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const cached = wrapped.get(property);
      if (cached) return cached;
      const method = value as (...args: unknown[]) => unknown;
      const timed = (...args: unknown[]): unknown => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        let result: unknown;
        try {
          // called on the real store, so private fields and `this` work as without the wrapper
          result = method.apply(target, args);
        } catch (error: unknown) {
          observe(property, seconds(), false);
          throw error;
        }
        if (result instanceof Promise) {
          return result.then(
            (answer: unknown) => {
              observe(property, seconds(), true);
              return answer;
            },
            (error: unknown) => {
              observe(property, seconds(), false);
              throw error;
            },
          );
        }
        observe(property, seconds(), true);
        return result;
      };
      wrapped.set(property, timed);
      return timed;
    },
  });
}
