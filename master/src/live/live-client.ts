// One WebSocket client of the master, with its own bounded outgoing queue.
//
// Messages are handed to the socket only while its unsent bytes stay under a high-water mark;
// the rest wait in the queue and go out as the socket drains (the send callback pumps again).
// When the unsent bytes (socket buffer + queue) pass the bound, the client is lagging: the
// queue is dropped, the client gets `{type:"lagged"}` and the socket is closed with 4008. So a
// slow client costs at most the bound in memory, never stalls the master or other clients, and
// never loses messages silently. Stored log replay is queued as "paced" (not counted against
// the bound) because the server, not the world, decides how fast it is produced.
import type WebSocket from 'ws';
import type { Logger } from '../logger.js';

export type LiveChannel = 'telemetry' | 'events' | 'logs';

/**
 * Close codes: 1000 normal (logs complete), 1001 master stopping, 4008 lagged, 4401 the token
 * expired or was revoked, 4000+HTTP status for other errors.
 */
export const CLOSE_LAGGED = 4008;
export const CLOSE_UNAUTHENTICATED = 4401;

export interface LiveClientOptions {
  maxBufferedBytes: number;
  logger: Logger;
  onSent?: (() => void) | undefined;
  onLagged?: (() => void) | undefined;
}

interface Pending {
  data: string;
  /** counted against the lag bound (live messages); paced replay is not */
  counted: boolean;
  /** not a message: close the socket once everything before it was handed over */
  close?: { code: number; reason: string } | undefined;
}

export class LiveClient {
  /** answered our last ping */
  alive = true;
  private closed = false;
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private countedBytes = 0;
  private readonly highWater: number;
  private readonly cleanups: (() => void)[] = [];
  private readonly afterWrite = (error?: Error | null) => {
    if (!error && this.queueHead < this.queue.length) this.pump();
  };

  constructor(
    readonly socket: WebSocket,
    readonly channel: LiveChannel,
    private readonly options: LiveClientOptions,
  ) {
    this.highWater = Math.max(16 * 1024, Math.floor(options.maxBufferedBytes / 4));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.dispose());
    socket.on('error', (error) => {
      options.logger.debug({ err: error, channel }, 'websocket error');
      this.dispose();
    });
    // The protocol is server -> client only; what a client sends is ignored.
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs when the client goes away, however it goes. */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** Queues one message (an object, or JSON already serialised for many clients). */
  send(message: object | string, options: { paced?: boolean } = {}): void {
    if (this.closed) return;
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    const counted = !options.paced;
    if (counted) {
      const unsent = this.socket.bufferedAmount + this.countedBytes + data.length;
      if (unsent > this.options.maxBufferedBytes) {
        this.lagged();
        return;
      }
      this.countedBytes += data.length;
    }
    this.queue.push({ data, counted });
    this.pump();
  }

  /** Sends what is queued, then closes (code 1000 unless given). */
  end(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.queue.push({ data: '', counted: false, close: { code, reason } });
    this.pump();
  }

  /** `{type:"error"}` then a close with 4000 + the HTTP status of the code. */
  fail(code: string, message: string, httpStatus: number): void {
    this.send({ type: 'error', code, message });
    this.end(4000 + Math.min(999, Math.max(0, httpStatus)), code);
  }

  /**
   * The token the socket was opened with expired or was revoked: what is still queued is dropped
   * (it is not for this client any more), `{type:"error", code:"unauthenticated", message}` is
   * sent and the socket is closed with 4401 at once.
   */
  endUnauthenticated(message: string, reason: string): void {
    if (this.closed) return;
    this.queue.length = 0;
    this.queueHead = 0;
    this.countedBytes = 0;
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.send(JSON.stringify({ type: 'error', code: 'unauthenticated', message }));
      this.socket.close(CLOSE_UNAUTHENTICATED, reason.slice(0, 120));
    }
    this.dispose();
  }

  /** Closes at once (master stopping, or a client that missed a pong). */
  terminate(): void {
    this.socket.terminate();
    this.dispose();
  }

  closeGoingAway(): void {
    if (this.closed) return;
    this.socket.close(1001, 'master stopping');
    this.dispose();
  }

  private pump(): void {
    while (this.queueHead < this.queue.length && !this.closed) {
      if (this.socket.readyState !== this.socket.OPEN) return;
      if (this.socket.bufferedAmount >= this.highWater) return; // the send callback pumps again
      const next = this.queue[this.queueHead]!;
      this.queueHead += 1;
      if (next.counted) this.countedBytes -= next.data.length;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (next.close) {
        this.socket.close(next.close.code, next.close.reason);
        this.dispose();
        return;
      }
      this.socket.send(next.data, this.afterWrite);
      this.options.onSent?.();
    }
  }

  private lagged(): void {
    const dropped = this.queue.length - this.queueHead;
    this.queue.length = 0;
    this.queueHead = 0;
    this.countedBytes = 0;
    this.options.onLagged?.();
    this.options.logger.info({ channel: this.channel, dropped, bound: this.options.maxBufferedBytes }, 'websocket client lagged; closing it');
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.send(
        JSON.stringify({
          type: 'lagged',
          message: `this client did not read fast enough: more than ${this.options.maxBufferedBytes} bytes were waiting to be sent, so later messages were not sent; reconnect to start again`,
        }),
      );
      this.socket.close(CLOSE_LAGGED, 'lagged');
    }
    this.dispose();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queueHead = 0;
    this.countedBytes = 0;
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error: unknown) {
        this.options.logger.error({ err: error, channel: this.channel }, 'websocket cleanup failed');
      }
    }
  }
}
