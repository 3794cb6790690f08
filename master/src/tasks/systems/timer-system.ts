// Timers of the task lifecycle, one keyed table on the resources' clock (so the test harness
// fires them by advancing a manual clock). Today: the dispatch system's wake-up when the
// earliest retry backoff ends, and the recovery system's end of each lost worker's fencing bound
// (`lost-worker:<id>`, when its attempts are re-queued), each task's deadlines
// (`deadline:<kind>:<taskId>`, deadline-system.ts), and the master-enforced attempt timeouts
// (`timeout:<attempt>` and `timeout-grace:<attempt>`, timeout-system.ts). A timer fires a little
// after its time (TIMER_SLACK_MS), so what it waits for is due by the clock when it runs.
import type { ClockTimer } from '../clock.js';
import type { TaskSystemResources } from '../system-resources.js';

/** How late after its time a timer fires (exported for tests that step the clock to the edge). */
export const TIMER_SLACK_MS = 5;

export class TimerSystem {
  private readonly timers = new Map<string, { at: number; timer: ClockTimer }>();
  private stopped = false;

  constructor(private readonly resources: TaskSystemResources) {}

  /** Calls `fire` at `at` (epoch ms), unless the key's timer already fires at or before then. */
  atEarliest(key: string, at: number, fire: () => void): void {
    const armed = this.timers.get(key);
    if (armed && armed.at <= at) return;
    this.set(key, at, fire);
  }

  /** Calls `fire` at `at` (epoch ms), replacing the key's timer. */
  set(key: string, at: number, fire: () => void): void {
    if (this.stopped) return;
    this.clear(key);
    const { clock } = this.resources;
    const entry = {
      at,
      timer: clock.setTimer(() => {
        if (this.timers.get(key) === entry) this.timers.delete(key);
        // the leadership gate: a master that no longer leads acts on no timer
        if (this.resources.leading()) fire();
      }, Math.max(0, at - clock.now()) + TIMER_SLACK_MS),
    };
    this.timers.set(key, entry);
  }

  clear(key: string): void {
    this.timers.get(key)?.timer.cancel();
    this.timers.delete(key);
  }

  /** Cancels every timer; no new ones are armed (master stopping). */
  stop(): void {
    this.stopped = true;
    for (const key of [...this.timers.keys()]) this.clear(key);
  }
}
