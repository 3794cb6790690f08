import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { directoryBytes, DiskWatcher } from './disk-watcher.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('DiskWatcher', () => {
  it('calls onExceeded once the measured bytes pass the limit, and looks faster as usage nears it', async () => {
    let used = 0;
    const looks: number[] = [];
    const exceeded = await new Promise<number>((resolve) => {
      const watcher = new DiskWatcher({
        limit: 1000,
        measure: async () => {
          looks.push(Date.now());
          used += 300;
          return used;
        },
        onExceeded: resolve,
        onUnmeasurable: () => resolve(-1),
        minIntervalMs: 5,
        maxIntervalMs: 200,
      });
      watcher.start();
    });
    expect(exceeded).toBe(1200);
    expect(looks).toHaveLength(4);
  });

  it('slows down while nothing grows, and never looks sooner than four times what a look costs', async () => {
    const looks: number[] = [];
    await new Promise<void>((resolve) => {
      const watcher = new DiskWatcher({
        limit: 1000,
        measure: async () => {
          looks.push(Date.now());
          if (looks.length === 5) {
            watcher.stop();
            resolve();
          }
          await new Promise((r) => setTimeout(r, 20)); // each look costs 20 ms
          return 1;
        },
        onExceeded: () => undefined,
        onUnmeasurable: () => undefined,
        minIntervalMs: 1,
        maxIntervalMs: 10_000,
      });
      watcher.start();
    });
    const gaps = looks.slice(1).map((at, i) => at - looks[i]!);
    // 20 ms per look: at least 80 ms between the end of one and the next, so 100 ms start to start
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(95);
  });

  it('stops the task when its space cannot be measured several times in a row', async () => {
    const reason = await new Promise<unknown>((resolve) => {
      new DiskWatcher({
        limit: 10,
        measure: () => Promise.reject(new Error('EACCES: permission denied')),
        onExceeded: () => resolve('exceeded'),
        onUnmeasurable: resolve,
        maxFailures: 3,
        minIntervalMs: 1,
        maxIntervalMs: 1,
      }).start();
    });
    expect(String(reason)).toMatch(/EACCES/);
  });

  it('does nothing after stop()', async () => {
    let looks = 0;
    const watcher = new DiskWatcher({ limit: 10, measure: async () => ++looks, onExceeded: () => undefined, onUnmeasurable: () => undefined, minIntervalMs: 1, maxIntervalMs: 1 });
    watcher.start();
    watcher.stop();
    await new Promise((r) => setTimeout(r, 30));
    expect(looks).toBe(0);
  });
});

describe('directoryBytes', () => {
  it('sums regular files under a folder, sparse ones in full, without following links', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wharf-du-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(dir, 'one'), Buffer.alloc(100));
    writeFileSync(path.join(dir, 'a', 'b', 'two'), Buffer.alloc(50));
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    expect(await directoryBytes(dir)).toBe(150);
    expect(await directoryBytes(path.join(dir, 'missing'))).toBe(0);
  });

  it('counts a tree deeper than Node can walk (a task cannot hide bytes by nesting them)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wharf-du-deep-'));
    const segment = 'd'.repeat(250);
    execFileSync('sh', ['-c', `cd "${dir}" && for i in $(seq 1 17); do mkdir ${segment} && cd -P ${segment}; done && head -c 1048576 /dev/zero > f`]);
    try {
      const bytes = await directoryBytes(dir);
      expect(bytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(bytes).toBeLessThan(2 * 1024 * 1024);
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });
});
