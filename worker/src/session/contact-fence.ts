// The worker's half of fencing: it knows when it last had proven contact with the master and
// trips once that is longer ago than its stop-after, so the session stops every running
// attempt before the master gives them to another worker.
//
// Proof of contact is the send time of the newest heartbeat the master acknowledged
// (HeartbeatAck echoes its sent_at_ms) or of a Register the master answered. The master
// received that message after the worker sent it, so "last contact + stop-after" here is never
// later than "last heard from + stop-after" on the master: only the clocks' rates matter, not
// their offset. Times here are monotonic (performance.now), immune to wall-clock steps.
import { performance } from 'node:perf_hooks';

export interface ContactFenceOptions {
  /** Contact is lost: stop everything. `silentMs`: how long since the last contact. */
  onLost: (silentMs: number, stopAfterMs: number) => void;
  /** Contact is back (an acknowledgement of a message sent within stop-after). */
  onRestored: () => void;
  /** A newer proof of contact, sent at `sentAt` (monotonic). */
  onContact?: (sentAt: number) => void;
  /** monotonic ms; performance.now by default (tests pass their own clock) */
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/** How many unacknowledged heartbeats to remember (older ones prove less anyway). */
const PENDING_LIMIT = 256;

export class ContactFence {
  private stopAfterMs: number | undefined;
  private lastContact: number | undefined;
  private lost = false;
  private timer: unknown;
  /** heartbeats sent and not yet acknowledged: sent_at_ms → monotonic send time */
  private readonly pending = new Map<number, number>();
  private lastSentAtMs = 0;

  constructor(private readonly options: ContactFenceOptions) {}

  now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  /** Whether the worker is cut off: it stops its attempts and takes no new ones. */
  get isLost(): boolean {
    return this.lost;
  }

  get stopAfter(): number | undefined {
    return this.stopAfterMs;
  }

  /** Monotonic time of the last proven contact, if any. */
  get lastContactAt(): number | undefined {
    return this.lastContact;
  }

  /** The bound to apply (undefined: none, the fence never trips). */
  setStopAfter(stopAfterMs: number | undefined): void {
    this.stopAfterMs = stopAfterMs;
    this.arm();
  }

  /** A message sent at `sentAt` (monotonic) reached the master. */
  contact(sentAt: number): void {
    if (this.lastContact !== undefined && sentAt <= this.lastContact) return;
    this.lastContact = sentAt;
    this.options.onContact?.(sentAt);
    if (this.lost && this.stopAfterMs !== undefined && this.now() - sentAt < this.stopAfterMs) {
      this.lost = false;
      this.options.onRestored();
    }
    this.arm();
  }

  /**
   * Stamps a heartbeat about to be sent: answers its sent_at_ms (wall-clock ms, kept
   * increasing so that an acknowledgement names exactly one heartbeat) and remembers when it
   * left.
   */
  heartbeatSent(wallNowMs: number = Date.now()): number {
    const sentAtMs = Math.max(wallNowMs, this.lastSentAtMs + 1);
    this.lastSentAtMs = sentAtMs;
    this.pending.set(sentAtMs, this.now());
    if (this.pending.size > PENDING_LIMIT) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    return sentAtMs;
  }

  /** The master acknowledged the heartbeat stamped `sentAtMs`. */
  heartbeatAcked(sentAtMs: number): void {
    const sentAt = this.pending.get(sentAtMs);
    if (sentAt === undefined) return; // not ours, or forgotten: proves nothing
    for (const key of this.pending.keys()) {
      if (key <= sentAtMs) this.pending.delete(key); // acks come in order
    }
    this.contact(sentAt);
  }

  stop(): void {
    this.clear();
  }

  private arm(): void {
    this.clear();
    if (this.lost || this.stopAfterMs === undefined || this.lastContact === undefined) return;
    const due = this.lastContact + this.stopAfterMs - this.now();
    if (due <= 0) {
      this.trip();
      return;
    }
    const setTimer = this.options.setTimer ?? ((run: () => void, ms: number) => setTimeout(run, ms));
    // arm() again when it fires: a timer a hair early by this clock waits out the rest
    this.timer = setTimer(() => {
      this.timer = undefined;
      this.arm();
    }, Math.ceil(due));
  }

  private trip(): void {
    if (this.lost || this.stopAfterMs === undefined || this.lastContact === undefined) return;
    this.lost = true;
    this.options.onLost(this.now() - this.lastContact, this.stopAfterMs);
  }

  private clear(): void {
    if (this.timer === undefined) return;
    (this.options.clearTimer ?? ((timer: unknown) => clearTimeout(timer as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
  }
}
