// Exponential backoff with full jitter, bounded below by the base delay and above by the max:
// try n (from 0) waits a uniformly random time in [base, min(max, base * 2^n)].
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Returns a number in [0, 1); Math.random by default (tests pass their own). */
  random?: () => number;
}

/** The delay before retry number `attempt` (0 = the first retry). */
export function computeBackoffMs(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs } = options;
  const random = options.random ?? Math.random;
  const exponent = Math.min(Math.max(attempt, 0), 52);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  if (ceiling <= baseMs) return Math.min(baseMs, maxMs);
  return baseMs + Math.floor(random() * (ceiling - baseMs + 1));
}

/** Counts failures and hands out the next delay; reset() after a success. */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  get attempts(): number {
    return this.failures;
  }

  nextDelayMs(): number {
    const ms = computeBackoffMs(this.failures, this.options);
    this.failures += 1;
    return ms;
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller checks its own state
  }
}
