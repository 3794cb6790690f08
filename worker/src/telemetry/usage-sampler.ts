// Samples machine usage in the background on the heartbeat cadence, so a heartbeat only reads
// the latest sample and never waits for one. One sample runs at a time; a slow one is simply
// skipped over. CPU and memory come from systeminformation, GPU (only when the worker has
// one) from its graphics probe, disk from statfs on the data dir (no `df` process per sample).
import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';
import * as si from 'systeminformation';
import type { Usage__Output } from '@wharf/proto';

export interface UsageSamplerOptions {
  dataDir: string;
  intervalMs: number;
  hasGpu: boolean;
  logger: Logger;
}

export class UsageSampler {
  private usage: Usage__Output | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private intervalMs: number;

  constructor(private readonly options: UsageSamplerOptions) {
    this.intervalMs = options.intervalMs;
  }

  /** The latest sample; undefined until the first one completes (a heartbeat then carries none). */
  latest(): Usage__Output | undefined {
    return this.usage && { ...this.usage };
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Follows the master's heartbeat interval. */
  setIntervalMs(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    if (this.timer !== undefined) {
      this.stop();
      this.start();
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (also used by start()). */
  async sample(): Promise<Usage__Output> {
    const [load, mem, disk, gpu] = await Promise.all([
      si.currentLoad(),
      si.mem(),
      diskPercent(this.options.dataDir),
      this.options.hasGpu ? gpuPercent() : Promise.resolve(0),
    ]);
    this.usage = {
      cpuPercent: round(load.currentLoad),
      memoryPercent: round(mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : 0),
      diskPercent: round(disk),
      gpuPercent: round(gpu),
      hasGpu: this.options.hasGpu,
    };
    return { ...this.usage };
  }

  private tick(): void {
    if (this.sampling) return;
    this.sampling = true;
    void this.sample()
      .catch((error: unknown) => this.options.logger.debug({ err: error }, 'usage sample failed'))
      .finally(() => {
        this.sampling = false;
      });
  }
}

async function diskPercent(dir: string): Promise<number> {
  const stats = await statfs(dir);
  if (stats.blocks === 0) return 0;
  return ((stats.blocks - stats.bfree) / stats.blocks) * 100;
}

async function gpuPercent(): Promise<number> {
  const graphics = await si.graphics();
  const loads = graphics.controllers
    .filter((c) => /nvidia/i.test(`${c.vendor} ${c.model}`))
    .map((c) => c.utilizationGpu ?? 0);
  return loads.length === 0 ? 0 : loads.reduce((a, b) => a + b, 0) / loads.length;
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10) / 10 : 0;
}
