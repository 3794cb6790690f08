// Time as the task systems see it: `now` and timers. Production uses the system clock; the test
// harness (testing/harness.ts) passes a manual clock whose timers fire when the test advances it.

export interface ClockTimer {
  cancel(): void;
}

export interface Clock {
  /** epoch ms */
  now(): number;
  /** Calls `fire` after `ms`; a pending timer never keeps the process alive. */
  setTimer(fire: () => void, ms: number): ClockTimer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fire, ms) {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
