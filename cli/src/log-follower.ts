// Follows a task's log over the master's WebSocket (/ws/tasks/:id/logs): the stored output,
// then live output, stdout and stderr kept apart, until the `complete` message says how the
// task ended. Used by `wharf run` and `wharf logs -f`.
//
// A dropped socket (master restart, a proxy timeout, `lagged` when we read too slowly) is
// reopened with growing pauses. The server replays a task's log from its start on every new
// socket, in the same order, so the follower skips as many characters as it has already
// delivered: nothing is printed twice and nothing is lost.
import type { RawData } from 'ws';
import { apiErrorFrom, describeNetworkError, type ApiClient } from './api-client.js';
import { CliError } from './errors.js';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogChunk {
  attemptId: string;
  /** the attempt's number (1 for the first run, more after retries or a lost worker) */
  attempt: number;
  stream: LogStream;
  data: string;
}

export interface LogEnd {
  /** the task's final status: succeeded, failed or cancelled */
  status: string;
  exitCode: number | null;
}

export interface FollowOptions {
  onChunk(chunk: LogChunk): void;
  /** the socket dropped; the follower waits `delayMs` and opens a new one */
  onReconnect?(why: string, delayMs: number): void;
  /** aborting stops following (the answer is then 'detached') */
  signal?: AbortSignal;
  /** pauses between reconnections; the follower gives up after the last (about 40 s in all) */
  reconnectDelaysMs?: readonly number[];
}

const DEFAULT_DELAYS = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000, 5000, 5000];

/** Drops the first `skip` characters of a replayed stream, however the replay is chunked. */
export class ReplaySkipper {
  private delivered = 0;
  private toSkip = 0;

  /** A new socket starts: everything delivered so far will come again. */
  restart(): void {
    this.toSkip = this.delivered;
  }

  /** The part of `data` not delivered before (possibly empty). */
  take(data: string): string {
    if (this.toSkip >= data.length) {
      this.toSkip -= data.length;
      return '';
    }
    const fresh = data.slice(this.toSkip);
    this.toSkip = 0;
    this.delivered += fresh.length;
    return fresh;
  }
}

type Outcome = { kind: 'complete'; end: LogEnd } | { kind: 'dropped'; why: string; heard: boolean } | { kind: 'detached' };

interface ServerMessage {
  type?: unknown;
  attemptId?: unknown;
  attempt?: unknown;
  stream?: unknown;
  data?: unknown;
  status?: unknown;
  exitCode?: unknown;
  code?: unknown;
  message?: unknown;
}

function openOnce(client: ApiClient, taskId: string, skipper: ReplaySkipper, options: FollowOptions): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({ kind: 'detached' });
      return;
    }
    skipper.restart();
    const ws = client.webSocket(`/ws/tasks/${encodeURIComponent(taskId)}/logs`);
    let settled = false;
    let heard = false;
    let failure: CliError | undefined;
    let dropReason = 'the connection closed';
    const settle = (outcome: Outcome | CliError) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (outcome instanceof CliError) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = () => {
      ws.terminate();
      settle({ kind: 'detached' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const error = apiErrorFrom(status, Buffer.concat(chunks).toString('utf8'));
        // 5xx (a proxy before a restarting master, or the master's own trouble): try again
        if (status >= 500) settle({ kind: 'dropped', why: error.message, heard: false });
        else settle(error);
        ws.terminate();
      });
    });
    ws.on('message', (raw: RawData) => {
      heard = true;
      let message: ServerMessage;
      try {
        message = JSON.parse(String(raw)) as ServerMessage;
      } catch {
        return; // not ours to understand; the protocol only sends JSON objects
      }
      if (message.type === 'log' && typeof message.data === 'string') {
        const data = skipper.take(message.data);
        if (data === '') return;
        const stream: LogStream = message.stream === 'stdout' || message.stream === 'stderr' ? message.stream : 'system';
        options.onChunk({
          attemptId: String(message.attemptId ?? ''),
          attempt: typeof message.attempt === 'number' ? message.attempt : 0,
          stream,
          data,
        });
      } else if (message.type === 'complete') {
        settle({
          kind: 'complete',
          end: { status: String(message.status), exitCode: typeof message.exitCode === 'number' ? message.exitCode : null },
        });
        ws.close(1000);
      } else if (message.type === 'lagged') {
        dropReason = 'the master cut the stream: this client read too slowly (lagged)';
      } else if (message.type === 'error') {
        failure = new CliError(typeof message.code === 'string' ? message.code : 'internal', String(message.message ?? 'the log stream failed'));
      }
    });
    ws.on('error', (error: Error) => {
      dropReason = describeNetworkError(error, client.server).message;
    });
    ws.on('close', (code: number) => {
      if (failure && failure.code !== 'internal' && failure.code !== 'unavailable') settle(failure);
      else settle({ kind: 'dropped', why: code === 1001 ? 'the master is restarting' : dropReason, heard });
    });
  });
}

/** Follows until the task ends ('complete'), the signal aborts ('detached') or reconnecting fails. */
export async function followTaskLog(client: ApiClient, taskId: string, options: FollowOptions): Promise<LogEnd | 'detached'> {
  const delays = options.reconnectDelaysMs ?? DEFAULT_DELAYS;
  const skipper = new ReplaySkipper();
  let failures = 0;
  for (;;) {
    const outcome = await openOnce(client, taskId, skipper, options);
    if (outcome.kind === 'complete') return outcome.end;
    if (outcome.kind === 'detached') return 'detached';
    if (outcome.heard) failures = 0;
    // several masters: a stream that could not open goes to the next one
    else client.useNextServer();
    const delay = delays[failures];
    if (delay === undefined) throw new CliError('unreachable', `lost the log stream of task ${taskId}: ${outcome.why}`);
    failures += 1;
    options.onReconnect?.(outcome.why, delay);
    const aborted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', stop);
        resolve(false);
      }, delay);
      const stop = () => {
        clearTimeout(timer);
        resolve(true);
      };
      options.signal?.addEventListener('abort', stop, { once: true });
    });
    if (aborted || options.signal?.aborted) return 'detached';
  }
}
