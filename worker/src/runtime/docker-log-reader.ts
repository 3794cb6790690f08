// Reads a container's log from the Docker engine so that nothing the task wrote is missed.
//
// The engine's follow stream (`GET /containers/:id/logs?follow=1`) alone is not enough: when the
// container exits while the reader is behind, Docker Engine 20.10 (Debian's docker.io 20.10.24
// here) can end the stream cleanly before it has sent the last part of the log, although the
// json-file log holds every line. A `seq 1 100000` task on a loaded host lost 70-90 % of its
// lines that way, and the worker reported the shorter log as complete. Newer engines drain the
// file after the exit; the worker cannot tell which engine it talks to, so it checks:
//
//   1. follow the log until the stream ends;
//   2. ask the engine whether the container still runs. If it does not, read the log once more:
//      a read that starts after the exit holds everything (on a stopped container `follow`
//      returns what is stored and ends). If it still runs (the stream ended for another reason),
//      follow again, after a short pause when the last read brought nothing new.
//
// Each later read starts a little before the newest entry seen (`since`, whole seconds, one
// second of slack) and skips the entries earlier reads saw. The engine returns a log's entries
// in the order they were logged, so the already-seen entries from that second on are exactly
// the first ones of the new read: counting them (per second of their timestamp) places the
// reader exactly, even when two entries share a timestamp or stdout and stderr were stamped
// slightly out of order.
import type Dockerode from 'dockerode';
import { sleep } from '../retry/backoff.js';
import { DockerLogFrameParser, isCursorAfter } from './docker-log-frames.js';
import { statusCodeOf } from './runtime-error.js';
import type { RuntimeLogEntry } from './task-runtime.js';

/** What the reader needs of a dockerode Container (a unit test passes a fake). */
export interface ContainerLogSource {
  logs(options: Dockerode.ContainerLogsOptions & { follow: true }): Promise<NodeJS.ReadableStream>;
  inspect(): Promise<{ State: { Running: boolean } }>;
}

export interface ContainerLogReadOptions {
  /** Only entries after this cursor (a worker that restarted resumes after its last shipped entry). */
  after?: string | undefined;
  /** Stops reading (the iteration ends or throws an AbortError). */
  signal?: AbortSignal | undefined;
  /** Pause before following again a container that still runs when a read brought nothing new. */
  refollowDelayMs?: number | undefined;
}

const NS_PER_SECOND = 1_000_000_000n;
const DEFAULT_REFOLLOW_DELAY_MS = 500;

export async function* readContainerLog(container: ContainerLogSource, options: ContainerLogReadOptions = {}): AsyncGenerator<RuntimeLogEntry> {
  const { after, signal } = options;
  // `since` has whole-second precision; entries up to the cursor are skipped below
  const firstSince = after === undefined ? 0 : secondOf(after);
  /** entries the reads so far went past (yielded, or skipped as not after `after`), per second */
  const seen = new Map<number, number>();
  let newestSecond = firstSince;
  let containerStopped = false;
  for (;;) {
    if (signal?.aborted) return;
    const since = seen.size === 0 ? firstSince : Math.max(firstSince, newestSecond - 1);
    let alreadySeen = 0;
    for (const [second, count] of seen) if (second >= since) alreadySeen += count;
    const logOptions: Dockerode.ContainerLogsOptions & { follow: true } = { follow: true, stdout: true, stderr: true, timestamps: true };
    if (since > 0) logOptions.since = since;
    if (signal) logOptions.abortSignal = signal;
    const stream = (await container.logs(logOptions)) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    const parser = new DockerLogFrameParser({ timestamps: true });
    let fresh = 0;
    for await (const chunk of stream) {
      for (const entry of parser.push(chunk)) {
        if (alreadySeen > 0) {
          alreadySeen -= 1;
          continue;
        }
        fresh += 1;
        // an entry without a readable time (the engine always sends one) counts with its neighbours
        const second = entry.cursor === undefined ? newestSecond : secondOf(entry.cursor);
        seen.set(second, (seen.get(second) ?? 0) + 1);
        if (second > newestSecond) newestSecond = second;
        if (after !== undefined && entry.cursor !== undefined && !isCursorAfter(entry.cursor, after)) continue;
        yield entry;
      }
    }
    if (containerStopped || signal?.aborted) return;
    const running = await isRunning(container);
    if (running === undefined) return; // the container is gone, and its log with it
    if (!running) containerStopped = true;
    else if (fresh === 0) await sleep(options.refollowDelayMs ?? DEFAULT_REFOLLOW_DELAY_MS, signal);
  }
}

function secondOf(cursor: string): number {
  return Number(BigInt(cursor) / NS_PER_SECOND);
}

/** Whether the container runs; undefined when the engine no longer has it. */
async function isRunning(container: ContainerLogSource): Promise<boolean | undefined> {
  try {
    return (await container.inspect()).State.Running;
  } catch (error: unknown) {
    if (statusCodeOf(error) === 404) return undefined;
    throw error;
  }
}
