// Ships one attempt's logs to the master over StreamTaskLogs (one stream carries this attempt
// only). Bytes go through the batcher into frames; each frame is written to the attempt's
// spool before it is sent, so a broken stream (or a worker restart) is replayed from seq 1 with
// identical frames — the master applies each seq once. When the master answers OUT_OF_RANGE
// (a chunk skipped a seq it never got) the frames are resent at once from the seq it names
// (`wharf-expected-seq`); a refusal with `wharf-retry-after-ms` (the master's storage is full)
// is sent again no sooner than that, with backoff, until the master has room. finish() ends the
// stream and waits for a LogAck that names this attempt with lastSeq ≥ the last seq.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ClientWritableStream } from '@grpc/grpc-js';
import type { LogAck__Output, LogChunk } from '@wharf/proto';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import type { GatewayConnection } from '../session/gateway-connection.js';
import { describeGrpcError, grpcStatusOf, grpcTrailerOf, retryAfterMsOf, writeMessage } from '../session/gateway-connection.js';
import { LogBatcher, type LogFrame, type LogStreamName } from './log-batcher.js';
import { LogSpool } from './log-spool.js';

export interface LogShipperOptions {
  attemptId: string;
  spoolFile: string;
  gateway: GatewayConnection;
  batchBytes: number;
  batchMs: number;
  backoff: BackoffOptions;
  logger: Logger;
}

export interface LogShipResult {
  /** The master acknowledged every frame. */
  acknowledged: boolean;
  /** How many frames this attempt has (all sent at least once when acknowledged). */
  chunks: number;
}

interface LogCall {
  stream: ClientWritableStream<LogChunk>;
  ack: Promise<LogAck__Output>;
  error: unknown;
  broken: boolean;
}

/** Codes after which resending cannot help: the master will not take these logs. */
const PERMANENT = new Set<grpc.status>([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.PERMISSION_DENIED,
  grpc.status.NOT_FOUND,
  grpc.status.UNIMPLEMENTED,
]);
const MAX_SHORT_ACKS = 3;
/** Gap answers in a row that move the expected seq no further before the shipper gives up. */
const MAX_STUCK_GAP_ANSWERS = 3;

export class LogShipper {
  private readonly batcher: LogBatcher;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  /** Frames whose spool write failed (disk full): kept in memory instead. */
  private readonly unspooled = new Map<number, LogFrame>();
  private spooledSeq: number;
  private spoolBroken = false;
  private call: LogCall | undefined;
  private callSentSeq = 0;
  /** The seq the next call starts from: 1, or the one the master asked for after a gap. */
  private nextCallFrom = 1;
  private finishing = false;
  /** the master refused chunks for lack of room (said once) */
  private waitingForRoom = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<LogShipResult>;

  private constructor(
    private readonly options: LogShipperOptions,
    private readonly spool: LogSpool,
  ) {
    this.spooledSeq = spool.lastSeq;
    this.backoff = new Backoff(options.backoff);
    const batcherOptions: ConstructorParameters<typeof LogBatcher>[0] = {
      maxBytes: options.batchBytes,
      maxDelayMs: options.batchMs,
      firstSeq: spool.lastSeq + 1,
      onFrame: (frame) => this.keep(frame),
    };
    const cursor = spool.lastCursor;
    if (cursor !== undefined) batcherOptions.initialCursor = cursor;
    this.batcher = new LogBatcher(batcherOptions);
    this.done = this.pump();
  }

  /** Opens the attempt's spool (reading back frames of an earlier run) and starts shipping. */
  static async open(options: LogShipperOptions): Promise<LogShipper> {
    return new LogShipper(options, await LogSpool.open(options.spoolFile));
  }

  /** Where the runtime's log should resume after a restart (the last shipped entry), if known. */
  get resumeCursor(): string | undefined {
    return this.spool.lastCursor;
  }

  /** Frames handed out so far. */
  get chunks(): number {
    return this.batcher.lastSeq;
  }

  write(stream: 'STDOUT' | 'STDERR', data: Buffer, cursor?: string): void {
    this.push(stream, data, cursor);
  }

  /** A worker-side note for the task's log (one line). */
  note(text: string): void {
    this.push('SYSTEM', Buffer.from(`[wharf] ${text.replace(/\n+$/, '')}\n`, 'utf8'));
  }

  /** Flushes, ends the stream and waits for the master's acknowledgement. */
  async finish(): Promise<LogShipResult> {
    if (!this.finishing) {
      this.finishing = true;
      this.batcher.close();
      this.notify();
    }
    return this.done;
  }

  /**
   * Stops shipping at once (attempt dropped, or the worker leaves it running); the spool stays
   * on disk. Bytes not yet in a frame are thrown away: a worker that recovers the task reads
   * them again from the runtime, after the cursor of the last spooled frame.
   */
  async abandon(): Promise<void> {
    this.batcher.discard();
    this.abort.abort();
    this.call?.stream.cancel();
    this.notify();
    await this.done;
    await this.spool.close();
  }

  /** Closes the spool file after finish(). */
  async close(): Promise<void> {
    await this.spool.close();
  }

  private push(stream: LogStreamName, data: Buffer, cursor?: string): void {
    if (this.finishing || this.abort.signal.aborted) return;
    this.batcher.push(stream, data, cursor);
  }

  private keep(frame: LogFrame): void {
    const spooled = (): void => {
      this.spooledSeq = Math.max(this.spooledSeq, frame.seq);
      this.notify();
    };
    if (this.spoolBroken) {
      this.unspooled.set(frame.seq, frame);
      spooled();
      return;
    }
    this.spool.append(frame).then(spooled, (error: unknown) => {
      this.options.logger.error({ err: error }, 'cannot write the log spool; keeping frames in memory');
      this.spoolBroken = true;
      this.unspooled.set(frame.seq, frame);
      spooled();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitForWork(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private allSpooled(): boolean {
    return this.finishing && this.spooledSeq === this.batcher.lastSeq;
  }

  private async pump(): Promise<LogShipResult> {
    const signal = this.abort.signal;
    let shortAcks = 0;
    let stuckGaps = 0;
    let lastExpected = 0;
    while (!signal.aborted) {
      const needCall = this.spooledSeq > this.callSentSeq || this.allSpooled();
      if (!needCall) {
        await this.waitForWork();
        continue;
      }
      if (this.allSpooled() && this.batcher.lastSeq === 0) return { acknowledged: true, chunks: 0 };
      try {
        if (!this.call) {
          this.call = await this.openCall(signal);
          if (!this.call) break;
          this.callSentSeq = Math.max(0, Math.min(this.nextCallFrom - 1, this.spooledSeq));
          this.nextCallFrom = 1;
        }
        const call = this.call;
        while (this.callSentSeq < this.spooledSeq) {
          if (call.broken) throw call.error;
          const frame = await this.readFrame(this.callSentSeq + 1);
          await this.send(call, frame);
          this.callSentSeq = frame.seq;
        }
        if (this.allSpooled() && this.callSentSeq === this.batcher.lastSeq) {
          if (call.broken) throw call.error;
          call.stream.end();
          const ack = await call.ack;
          this.call = undefined;
          this.callSentSeq = 0;
          this.backoff.reset();
          if (this.waitingForRoom) this.options.logger.info('the master had room again for log chunks');
          this.waitingForRoom = false;
          if (ack.attemptId === this.options.attemptId && ack.lastSeq >= this.batcher.lastSeq) {
            return { acknowledged: true, chunks: this.batcher.lastSeq };
          }
          shortAcks += 1;
          this.options.logger.warn(
            { lastSeq: ack.lastSeq, ackAttemptId: ack.attemptId, expected: this.batcher.lastSeq },
            'log ack short of the last frame (or for another attempt); resending',
          );
          if (shortAcks >= MAX_SHORT_ACKS) return { acknowledged: false, chunks: this.batcher.lastSeq };
        }
      } catch (error: unknown) {
        this.call?.stream.cancel();
        this.call = undefined;
        this.callSentSeq = 0;
        if (signal.aborted) break;
        const code = grpcStatusOf(error);
        if (code === grpc.status.OUT_OF_RANGE) {
          // the master missed chunks: everything before `expected` arrived, resend from there now
          const expected = Number(grpcTrailerOf(error, 'wharf-expected-seq'));
          const from = Number.isSafeInteger(expected) && expected >= 1 ? expected : 1;
          stuckGaps = from > lastExpected ? 0 : stuckGaps + 1;
          lastExpected = from;
          if (stuckGaps >= MAX_STUCK_GAP_ANSWERS) {
            this.options.logger.warn({ reason: describeGrpcError(error) }, 'the master keeps missing the same log chunks; not sending them');
            return { acknowledged: false, chunks: this.batcher.lastSeq };
          }
          this.options.logger.info({ from, reason: describeGrpcError(error) }, 'the master missed log chunks; resending from the seq it expects');
          this.nextCallFrom = from;
          continue;
        }
        if (code !== undefined && PERMANENT.has(code)) {
          this.options.logger.warn({ reason: describeGrpcError(error) }, 'the master refused this attempt\'s logs; not sending them');
          return { acknowledged: false, chunks: this.batcher.lastSeq };
        }
        // a temporary refusal (the master's storage is full) says how long to wait at least
        const retryAfterMs = retryAfterMsOf(error);
        if (retryAfterMs !== undefined && !this.waitingForRoom) {
          this.waitingForRoom = true;
          this.options.logger.warn({ reason: describeGrpcError(error) }, 'the master cannot store log chunks now; sending them again once it can');
        }
        const delayMs = Math.max(retryAfterMs ?? 0, this.backoff.nextDelayMs());
        this.options.logger.debug({ reason: describeGrpcError(error), delayMs }, 'log stream broke; resending from seq 1');
        await sleep(delayMs, signal);
      }
    }
    return { acknowledged: false, chunks: this.batcher.lastSeq };
  }

  private async openCall(signal: AbortSignal): Promise<LogCall | undefined> {
    const metadata = await this.options.gateway.callMetadata(signal);
    if (!metadata) return undefined;
    let resolveAck!: (ack: LogAck__Output) => void;
    let rejectAck!: (error: unknown) => void;
    const ack = new Promise<LogAck__Output>((resolve, reject) => {
      resolveAck = resolve;
      rejectAck = reject;
    });
    ack.catch(() => undefined);
    const call: LogCall = {
      stream: this.options.gateway.client.StreamTaskLogs(metadata, (error, response) => {
        if (error || !response) {
          call.broken = true;
          call.error = error ?? new Error('log stream ended without an ack');
          rejectAck(call.error);
        } else {
          resolveAck(response);
        }
        this.notify();
      }),
      ack,
      error: undefined,
      broken: false,
    };
    call.stream.on('error', () => undefined); // reported through the callback
    return call;
  }

  private async readFrame(seq: number): Promise<LogFrame> {
    return this.unspooled.get(seq) ?? (await this.spool.read(seq));
  }

  private async send(call: LogCall, frame: LogFrame): Promise<void> {
    const chunk: LogChunk = {
      attemptId: this.options.attemptId,
      seq: frame.seq,
      stream: frame.stream,
      data: frame.data,
      atMs: frame.atMs,
    };
    await writeMessage(call.stream, chunk);
  }
}
