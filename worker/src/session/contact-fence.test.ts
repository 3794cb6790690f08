// The worker's stop-after timer on an injected clock: it runs from the send time of the newest
// acknowledged heartbeat, never from when the ack arrived, and only a fresh ack lifts it.
import { describe, expect, it } from 'vitest';
import { ContactFence } from './contact-fence.js';

/** A manual clock and timer queue standing in for performance.now and setTimeout. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; run: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimer: (run: () => void, ms: number) => {
      const id = nextId++;
      timers.push({ at: now + ms, run, id });
      return id;
    },
    clearTimer: (id: unknown) => {
      timers = timers.filter((t) => t.id !== id);
    },
    /** Moves time forward, firing due timers in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.run();
      }
      now = until;
    },
  };
}

function fenceWith(clock: ReturnType<typeof fakeClock>) {
  const events: string[] = [];
  const fence = new ContactFence({
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    onLost: (silentMs, stopAfterMs) => events.push(`lost after ${silentMs} (bound ${stopAfterMs})`),
    onRestored: () => events.push('restored'),
  });
  return { fence, events };
}

describe('ContactFence', () => {
  it('trips stop-after past the send time of the newest acknowledged heartbeat, not its ack', () => {
    const clock = fakeClock();
    const { fence, events } = fenceWith(clock);
    fence.contact(clock.now()); // Register answered
    fence.setStopAfter(3000);
    clock.advance(1000);
    const sent = fence.heartbeatSent(1_000_000); // sent at t=1000
    clock.advance(1500); // the ack takes 1.5 s to come back
    fence.heartbeatAcked(sent);
    clock.advance(1499); // t=3999: 2999 ms after the send
    expect(events).toEqual([]);
    expect(fence.isLost).toBe(false);
    clock.advance(1); // t=4000: stop-after since the heartbeat left
    expect(events).toEqual(['lost after 3000 (bound 3000)']);
    expect(fence.isLost).toBe(true);
  });

  it('gives no credit for heartbeats that were never acknowledged, or acks of unknown heartbeats', () => {
    const clock = fakeClock();
    const { fence, events } = fenceWith(clock);
    fence.contact(0);
    fence.setStopAfter(2000);
    for (let i = 0; i < 5; i += 1) {
      clock.advance(300);
      fence.heartbeatSent();
    }
    fence.heartbeatAcked(42); // nothing was sent with this stamp
    clock.advance(500); // t=2000
    expect(events).toEqual(['lost after 2000 (bound 2000)']);
  });

  it('stays cut off on a late ack of an old heartbeat, and comes back on the ack of a fresh one', () => {
    const clock = fakeClock();
    const { fence, events } = fenceWith(clock);
    fence.contact(0);
    fence.setStopAfter(1000);
    clock.advance(500);
    const during = fence.heartbeatSent(10_000); // t=500, then the partition
    clock.advance(9500); // t=10000: long cut off
    expect(fence.isLost).toBe(true);
    fence.heartbeatAcked(during); // delivered after the link came back: 9.5 s old
    expect(fence.isLost).toBe(true);
    const fresh = fence.heartbeatSent(20_000);
    clock.advance(50);
    fence.heartbeatAcked(fresh);
    expect(fence.isLost).toBe(false);
    expect(events).toEqual(['lost after 1000 (bound 1000)', 'restored']);
    // and the timer runs again from the fresh heartbeat's send time (t=10000)
    clock.advance(949);
    expect(fence.isLost).toBe(false);
    clock.advance(1);
    expect(fence.isLost).toBe(true);
  });

  it('stamps heartbeats with increasing sent_at_ms even when the wall clock repeats or steps back', () => {
    const clock = fakeClock();
    const { fence } = fenceWith(clock);
    const stamps = [fence.heartbeatSent(5000), fence.heartbeatSent(5000), fence.heartbeatSent(4000)];
    expect(stamps).toEqual([5000, 5001, 5002]);
  });

  it('never trips without a stop-after, and trips at once when the last contact is already too old', () => {
    const clock = fakeClock();
    const { fence, events } = fenceWith(clock);
    fence.contact(0);
    clock.advance(60_000);
    expect(events).toEqual([]);
    // a restarted worker whose previous process last had contact 20 s ago, with a 15 s bound
    const restarted = fenceWith(clock);
    restarted.fence.contact(clock.now() - 20_000);
    restarted.fence.setStopAfter(15_000);
    expect(restarted.events).toEqual(['lost after 20000 (bound 15000)']);
  });
});
