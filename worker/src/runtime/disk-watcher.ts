// Enforces a task's `disk` on its writable space where the engine cannot (Docker's overlay2 on
// ext4 has no size option): it measures what the task wrote, and when that passes the limit it
// calls onExceeded once (the runtime kills the task and says why). It measures more often as
// the task nears the limit: the next look comes after half the time the last growth rate needs
// to reach it; while nothing grows the looks slow down (doubling) to maxIntervalMs; and a look
// never comes sooner than four times what the last one took, so watching costs at most a fifth
// of the time. So a task can get past its limit by at most what it writes in one interval (half
// a second by default) plus one look and the kill (the bound measured is in
// docs/ARCHITECTURE.md); the runtime measures once more when the task ends, so a task that stops
// just past its limit still fails.
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface DiskWatcherOptions {
  /** bytes */
  limit: number;
  /** bytes the task has written now */
  measure: () => Promise<number>;
  onExceeded: (usedBytes: number) => void;
  /** a measurement that failed (logged by the caller); the next look comes as usual */
  onError?: (error: unknown) => void;
  /**
   * This many measurements in a row failed: the limit cannot be held (say, a task that made its
   * files unreadable to the worker), so the runtime stops the task as if it had passed it.
   */
  onUnmeasurable: (error: unknown) => void;
  /** default 5 */
  maxFailures?: number;
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

export class DiskWatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private last: { at: number; used: number } | undefined;
  private failures = 0;
  private idleDelayMs = 0;
  /** the most this task was seen to use */
  peakBytes = 0;

  constructor(private readonly options: DiskWatcherOptions) {}

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.look(), delayMs);
    this.timer.unref?.();
  }

  private async look(): Promise<void> {
    const { limit, measure, onExceeded, onError } = this.options;
    const minMs = this.options.minIntervalMs ?? 50;
    const maxMs = this.options.maxIntervalMs ?? 500;
    const startedAt = Date.now();
    let used: number;
    try {
      used = await measure();
    } catch (error: unknown) {
      if (this.stopped) return;
      this.failures += 1;
      onError?.(error);
      if (this.failures >= (this.options.maxFailures ?? 5)) {
        this.stopped = true;
        this.options.onUnmeasurable(error);
        return;
      }
      this.schedule(minMs);
      return;
    }
    this.failures = 0;
    if (this.stopped) return;
    this.peakBytes = Math.max(this.peakBytes, used);
    if (used > limit) {
      this.stopped = true;
      onExceeded(used);
      return;
    }
    const now = Date.now();
    // never look again sooner than four times what this look cost
    const floorMs = Math.max(minMs, 4 * (now - startedAt));
    let delayMs: number;
    if (this.last && used > this.last.used && now > this.last.at) {
      const bytesPerMs = (used - this.last.used) / (now - this.last.at);
      delayMs = (limit - used) / bytesPerMs / 2;
      this.idleDelayMs = minMs;
    } else {
      this.idleDelayMs = Math.min(maxMs, Math.max(minMs, this.idleDelayMs * 2));
      delayMs = this.idleDelayMs;
    }
    this.last = { at: now, used };
    this.schedule(Math.min(Math.max(maxMs, floorMs), Math.max(floorMs, delayMs)));
  }
}

/**
 * The bytes of the regular files under `dir` (apparent sizes: a sparse file counts in full, as it
 * would be uploaded), without following links. Files that vanish while it counts are skipped. A
 * tree deeper than Node can walk (ENAMETOOLONG) is counted by du(1), which walks relative to each
 * folder: a task cannot hide bytes from its limit by nesting them deep.
 */
export async function directoryBytes(dir: string): Promise<number> {
  try {
    return await walkBytes(dir);
  } catch (error: unknown) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENAMETOOLONG')) throw error;
    return duBytes(dir);
  }
}

function duBytes(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('du', ['-s', '-b', '--', dir], { maxBuffer: 1024 * 1024 }, (error, stdout) => {
      const bytes = Number(/^(\d+)/.exec(stdout)?.[1]);
      // du counts folders too (a few KiB each): a little more than the files, never less
      if (Number.isFinite(bytes)) resolve(bytes);
      else reject(error ?? new Error(`du gave no size for ${dir}`));
    });
  });
}

async function walkBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error: unknown) {
    if (isGone(error)) return 0;
    throw error;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await walkBytes(full);
    else if (entry.isFile()) {
      try {
        total += (await lstat(full)).size;
      } catch (error: unknown) {
        if (!isGone(error)) throw error;
      }
    }
  }
  return total;
}

function isGone(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}
