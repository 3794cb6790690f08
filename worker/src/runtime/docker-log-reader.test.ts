import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readContainerLog, type ContainerLogSource } from './docker-log-reader.js';
import type { RuntimeLogEntry } from './task-runtime.js';

const NS = 1_000_000_000n;
const BASE = 1_700_000_000n * NS;

interface FakeEntry {
  stream: 'stdout' | 'stderr';
  /** nanoseconds since the epoch */
  time: bigint;
  text: string;
}

/**
 * A fake of the engine's side of one container: its stored log and whether it runs. A follow
 * of a running container ends when the container exits (here: once the stored log is sent),
 * unless an early end of the next read is scripted — what Docker Engine 20.10 does when a
 * container exits while its reader is behind.
 */
class FakeDockerContainer implements ContainerLogSource {
  running = true;
  readonly calls: { follow: boolean; since: number | undefined; wasRunning: boolean }[] = [];
  /** the next read ends after this many entries; `stops` makes the container exit then */
  private cut: { after: number; stops: boolean } | undefined;
  inspectError: Error | undefined;

  constructor(readonly log: FakeEntry[]) {}

  endNextReadAfter(entries: number, options: { stops: boolean }): void {
    this.cut = { after: entries, stops: options.stops };
  }

  logs(options: { follow: true; since?: number | string }): Promise<NodeJS.ReadableStream> {
    const since = options.since === undefined ? undefined : Number(options.since);
    this.calls.push({ follow: options.follow, since, wasRunning: this.running });
    let entries = this.log.filter((e) => since === undefined || e.time >= BigInt(since) * NS);
    const cut = this.cut;
    this.cut = undefined;
    if (cut) {
      entries = entries.slice(0, cut.after);
      if (cut.stops) this.running = false;
    } else {
      this.running = false;
    }
    // the multiplexed frames, split at odd places like a socket would
    const bytes = Buffer.concat(entries.map(frameOf));
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 1000) pieces.push(bytes.subarray(offset, offset + 1000));
    return Promise.resolve(Readable.from(pieces));
  }

  inspect(): Promise<{ State: { Running: boolean } }> {
    if (this.inspectError) return Promise.reject(this.inspectError);
    return Promise.resolve({ State: { Running: this.running } });
  }
}

function frameOf(entry: FakeEntry): Buffer {
  const seconds = entry.time / NS;
  const fraction = (entry.time % NS).toString().padStart(9, '0');
  const stamp = `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
  const payload = Buffer.from(`${stamp} ${entry.text}`);
  const header = Buffer.alloc(8);
  header.writeUInt8(entry.stream === 'stdout' ? 1 : 2, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** `count` lines 1..count on stdout, one every `stepMs` from BASE (several seconds in all). */
function numberedLog(count: number, stepMs = 7): FakeEntry[] {
  return Array.from({ length: count }, (_, i) => ({ stream: 'stdout' as const, time: BASE + BigInt(i) * BigInt(stepMs) * 1_000_000n, text: `${i + 1}\n` }));
}

async function readAll(container: ContainerLogSource, options: Parameters<typeof readContainerLog>[1] = {}): Promise<RuntimeLogEntry[]> {
  const entries: RuntimeLogEntry[] = [];
  for await (const entry of readContainerLog(container, { refollowDelayMs: 1, ...options })) entries.push(entry);
  return entries;
}

const texts = (entries: RuntimeLogEntry[]) => entries.map((e) => e.data.toString());
const numbers = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`);

describe('readContainerLog', () => {
  it('reads the log again after the exit when the engine ended the follow stream early, each line once', async () => {
    const container = new FakeDockerContainer(numberedLog(1000));
    container.endNextReadAfter(300, { stops: true });
    const entries = await readAll(container);
    expect(texts(entries)).toEqual(numbers(1, 1000));
    // the second read started after the exit, one second before the newest entry seen
    const newestSecond = Number((BASE + 299n * 7_000_000n) / NS);
    expect(container.calls).toEqual([
      { follow: true, since: undefined, wasRunning: true },
      { follow: true, since: newestSecond - 1, wasRunning: false },
    ]);
  });

  it('reads once more after a complete stream and yields nothing twice', async () => {
    const container = new FakeDockerContainer(numberedLog(500));
    container.running = false; // the task was quick: the first read already came after its exit
    expect(texts(await readAll(container))).toEqual(numbers(1, 500));
    expect(container.calls).toHaveLength(2);
  });

  it('places itself by counting, when entries share a timestamp or stdout and stderr were stamped out of order', async () => {
    const log: FakeEntry[] = [];
    for (let i = 0; i < 40; i += 1) log.push({ stream: 'stdout', time: BASE + 3n * NS, text: `same-${i}\n` });
    // logged after the 40 but stamped earlier (the two streams are copied by two goroutines)
    log.push({ stream: 'stderr', time: BASE + 3n * NS - 5_000_000n, text: 'late-stamped\n' });
    for (let i = 0; i < 10; i += 1) log.push({ stream: 'stdout', time: BASE + 3n * NS, text: `same-more-${i}\n` });
    const container = new FakeDockerContainer(log);
    container.endNextReadAfter(25, { stops: true }); // the cut falls inside the shared timestamp
    expect(texts(await readAll(container))).toEqual(log.map((e) => e.text));
  });

  it('follows again a container that still runs when its stream ended, until it has exited', async () => {
    const container = new FakeDockerContainer(numberedLog(600));
    container.endNextReadAfter(100, { stops: false });
    const entries = await readAll(container);
    // the second read followed the running container to its exit; the third came after it
    expect(texts(entries)).toEqual(numbers(1, 600));
    expect(container.calls.map((c) => c.wasRunning)).toEqual([true, true, false]);
  });

  it('resumes after a cursor, also across a read that ended early', async () => {
    const log = numberedLog(1000);
    const container = new FakeDockerContainer(log);
    container.endNextReadAfter(50, { stops: true });
    const after = (log[499]!.time).toString(); // the 500th line was shipped before a restart
    expect(texts(await readAll(container, { after }))).toEqual(numbers(501, 1000));
    expect(container.calls[0]!.since).toBe(Number(log[499]!.time / NS));
  });

  it('ends with what it read when the engine no longer has the container', async () => {
    const container = new FakeDockerContainer(numberedLog(200));
    container.endNextReadAfter(120, { stops: true });
    container.inspectError = Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404 });
    expect(texts(await readAll(container))).toEqual(numbers(1, 120));
  });

  it('reports an engine error other than a missing container', async () => {
    const container = new FakeDockerContainer(numberedLog(10));
    container.inspectError = Object.assign(new Error('(HTTP code 500) server error'), { statusCode: 500 });
    await expect(readAll(container)).rejects.toThrow('server error');
  });

  it('stops when aborted', async () => {
    const container = new FakeDockerContainer(numberedLog(100));
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const entry of readContainerLog(container, { signal: abort.signal, refollowDelayMs: 1 })) {
      seen.push(entry.data.toString());
      if (seen.length === 10) abort.abort();
    }
    expect(seen.length).toBeLessThanOrEqual(100);
    expect(container.calls).toHaveLength(1);
  });
});
