import type { Resources } from '../records/resources.js';
// One worker's recent telemetry for charts (GET /api/workers/:id/metrics): a fixed-size ring of
// samples at heartbeat resolution, in columns of numbers so a long history costs ~80 bytes a
// sample. A sample that arrives sooner than half an interval after the previous slot was opened
// replaces that slot's figures, so slots are at least half an interval apart; the ring holds
// twice `retentionMs / intervalMs` slots (plus slack), so however fast a worker heartbeats the
// ring covers at least the retention. Answers are cut to the retention window.

export interface TelemetrySample {
  at: number;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  gpuPercent?: number | undefined;
  runningTasks: number;
  reserved: Resources;
}

const COLUMNS = 10; // at, cpu, memory, disk, gpu (NaN = none), running, reserved cpu/memory/gpu/disk

export class WorkerHistory {
  private data: Float64Array;
  /** index of the oldest sample */
  private start = 0;
  private count = 0;
  /** when the newest slot was opened (its first sample) */
  private lastSlotOpenedAt = -Infinity;
  readonly capacity: number;

  constructor(
    readonly intervalMs: number,
    readonly retentionMs: number,
  ) {
    this.capacity = Math.ceil((2 * retentionMs) / Math.max(1, intervalMs)) + 4;
    // grows on demand up to capacity: most workers never fill a long ring before they go away
    this.data = new Float64Array(Math.min(this.capacity, 64) * COLUMNS);
  }

  get size(): number {
    return this.count;
  }

  /** epoch ms of the newest sample; undefined when there is none */
  get lastAt(): number | undefined {
    return this.count > 0 ? this.data[this.slot(this.count - 1) * COLUMNS] : undefined;
  }

  record(sample: TelemetrySample): void {
    const last = this.count > 0 ? this.slot(this.count - 1) : -1;
    if (last >= 0) {
      const lastAt = this.data[last * COLUMNS]!;
      if (sample.at < lastAt) return; // out of order: keep the series monotonic
      if (sample.at - this.lastSlotOpenedAt < this.intervalMs / 2) {
        this.write(last, sample);
        return;
      }
    }
    this.lastSlotOpenedAt = sample.at;
    if (this.count < this.capacity) {
      if (this.count * COLUMNS >= this.data.length) this.grow();
      this.write(this.slot(this.count), sample);
      this.count += 1;
    } else {
      this.write(this.start, sample);
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Samples at or after `since` (epoch ms) and within the retention of `now`, oldest first. */
  samples(options: { since?: number | undefined; now: number }): TelemetrySample[] {
    const from = Math.max(options.since ?? -Infinity, options.now - this.retentionMs);
    const out: TelemetrySample[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const base = this.slot(i) * COLUMNS;
      const at = this.data[base]!;
      if (at < from) continue;
      const gpu = this.data[base + 4]!;
      out.push({
        at,
        cpuPercent: this.data[base + 1]!,
        memoryPercent: this.data[base + 2]!,
        diskPercent: this.data[base + 3]!,
        ...(Number.isNaN(gpu) ? {} : { gpuPercent: gpu }),
        runningTasks: this.data[base + 5]!,
        reserved: {
          cpu: this.data[base + 6]!,
          memory: this.data[base + 7]!,
          gpu: this.data[base + 8]!,
          disk: this.data[base + 9]!,
        },
      });
    }
    return out;
  }

  private slot(index: number): number {
    // while the ring is not full, start is 0 and slots are in order
    return this.count < this.capacity ? index : (this.start + index) % this.capacity;
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.capacity, Math.max(64, (this.data.length / COLUMNS) * 2)) * COLUMNS);
    next.set(this.data);
    this.data = next;
  }

  private write(slot: number, s: TelemetrySample): void {
    const base = slot * COLUMNS;
    const d = this.data;
    d[base] = s.at;
    d[base + 1] = s.cpuPercent;
    d[base + 2] = s.memoryPercent;
    d[base + 3] = s.diskPercent;
    d[base + 4] = s.gpuPercent ?? Number.NaN;
    d[base + 5] = s.runningTasks;
    d[base + 6] = s.reserved.cpu;
    d[base + 7] = s.reserved.memory;
    d[base + 8] = s.reserved.gpu;
    d[base + 9] = s.reserved.disk;
  }
}
