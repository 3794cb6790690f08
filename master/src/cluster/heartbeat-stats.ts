// A small fixed-bucket histogram of heartbeat handling times (for GET /api/cluster/stats and
// the benchmark harness). Constant memory: 64 log-spaced buckets from 1 µs to ~10 s.
const BUCKETS = 64;
const MIN_NS = 1_000; // 1 µs
const GROWTH = 1.3;

export interface HeartbeatStatsView {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class HeartbeatStats {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private count = 0;
  private maxNs = 0;

  /** Records one handling time in nanoseconds. */
  record(ns: number): void {
    const index = ns <= MIN_NS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ns / MIN_NS) / Math.log(GROWTH)));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count += 1;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** Upper bound of the bucket holding quantile q, in ms (never above the max seen). */
  private quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(MIN_NS * GROWTH ** i, this.maxNs) / 1e6;
    }
    return this.maxNs / 1e6;
  }

  view(): HeartbeatStatsView {
    return { count: this.count, p50Ms: this.quantileMs(0.5), p99Ms: this.quantileMs(0.99), maxMs: this.maxNs / 1e6 };
  }
}
