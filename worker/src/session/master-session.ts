// The worker's conversation with the master. Main loop, until stop():
//
//   1. Register (unary) with the join token, our capacity and every attempt we still run —
//      running in this process after a reconnect, or recovered from the runtimes after a
//      restart. The answer carries a session token, the heartbeat interval and the attempts
//      the master has given to someone else meanwhile: those are stopped and their results
//      dropped at once.
//   2. Connect (bidi stream, `authorization: Bearer <session token>`): a heartbeat at once and
//      then every interval; every result still in the outbox is sent again. Down come
//      assign (accept at once, run an AttemptRunner), cancel, resultAck (forget the result,
//      remove the attempt's folder) and drain.
//   3. When the stream ends or fails (master restart, network), wait with exponential backoff
//      and full jitter, then go to 1. Running attempts are never stopped because the
//      connection dropped; their results wait in the outbox.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  ClientDuplexStream,
} from '@grpc/grpc-js';
import type {
  MasterMessage__Output,
  RegisterRequest,
  RegisterResponse__Output,
  Resources__Output,
  TaskSpec__Output,
  WorkerMessage,
} from '@wharf/proto';
import type { RuntimeName, WorkerConfig } from '../config/worker-config.js';
import type { ResultOutbox, StoredResult } from '../outbox/result-outbox.js';
import type { ArtifactCache } from '../cache/artifact-cache.js';
import type { OutputUploader } from '../outputs/output-uploader.js';
import { removeTree } from '../outputs/remove-tree.js';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import type { EffectiveSettings, TaskRuntime } from '../runtime/task-runtime.js';
import type { UsageSampler } from '../telemetry/usage-sampler.js';
import { AttemptRunner, type AttemptEventKind, type AttemptReporter, type AttemptSource } from './attempt-runner.js';
import { attemptPaths, isSafeAttemptId } from './attempt-paths.js';
import { assignmentOf } from './assignment.js';
import { describeGrpcError, grpcStatusOf, type GatewayConnection } from './gateway-connection.js';

export interface MasterSessionOptions {
  config: WorkerConfig;
  workerId: string;
  hostname: string;
  version: string;
  capacity: Resources__Output;
  gateway: GatewayConnection;
  outbox: ResultOutbox;
  sampler: UsageSampler;
  runtimes: ReadonlyMap<RuntimeName, TaskRuntime>;
  uploader: OutputUploader;
  attemptsDir: string;
  logger: Logger;
  /** DAG input cache; its digests go into heartbeats for placement affinity */
  cache?: ArtifactCache | undefined;
}

const REGISTER_DEADLINE_MS = 10_000;
/** A Connect stream that lived this long counts as a success for the backoff. */
const HEALTHY_STREAM_MS = 5_000;
/** How many settled attempt ids to remember for recognising repeated assignments. */
const SETTLED_MEMORY = 10_000;

export class MasterSession implements AttemptReporter {
  /** Resolves after the first successful Register; rejects if the session stops before. */
  readonly registered: Promise<void>;
  private resolveRegistered!: () => void;
  private rejectRegistered!: (error: Error) => void;
  private readonly runners = new Map<string, AttemptRunner>();
  private readonly settled = new Set<string>();
  /** Attempts whose result the master acknowledged (their folder goes once the runner is done). */
  private readonly acked = new Set<string>();
  private readonly backoffOptions: BackoffOptions;
  private readonly loopAbort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private stream: ClientDuplexStream<WorkerMessage, MasterMessage__Output> | undefined;
  private heartbeatIntervalMs: number;
  private draining = false;
  private readonly logger: Logger;

  constructor(private readonly options: MasterSessionOptions) {
    this.logger = options.logger.child({ component: 'session' });
    this.heartbeatIntervalMs = options.config.heartbeatIntervalMs;
    this.backoffOptions = { baseMs: options.config.reconnectBaseMs, maxMs: options.config.reconnectMaxMs };
    this.registered = new Promise<void>((resolve, reject) => {
      this.resolveRegistered = resolve;
      this.rejectRegistered = reject;
    });
    this.registered.catch(() => undefined); // callers who care await it themselves
  }

  /** Whether the master asked this worker to drain (take no new tasks). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Attempt ids this worker runs now. */
  runningAttemptIds(): string[] {
    return [...this.runners.keys()];
  }

  /**
   * Picks up what the runtimes still hold after a restart: running tasks are followed again,
   * tasks that ended while the worker was away are reported, tasks whose result is already in
   * the outbox are only cleaned up.
   */
  async recover(): Promise<void> {
    for (const runtime of this.options.runtimes.values()) {
      let found;
      try {
        found = await runtime.recover();
      } catch (error: unknown) {
        this.logger.error({ err: error, runtime: runtime.name }, 'cannot list what the runtime still runs');
        continue;
      }
      for (const recovered of found) {
        const { attemptId, taskId } = recovered.handle;
        const log = this.logger.child({ attemptId, taskId });
        if (this.runners.has(attemptId) || !isSafeAttemptId(attemptId)) continue;
        if (this.options.outbox.has(attemptId)) {
          log.info('recovered a finished task whose result is in the outbox; removing its container');
          await runtime.cleanup(recovered.handle).catch((error: unknown) => log.warn({ err: error }, 'cannot remove container'));
          continue;
        }
        log.info({ running: recovered.running }, 'recovered an attempt from before the restart');
        this.startRunner({ kind: 'recovered', recovered }, runtime);
      }
    }
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Ends the session. Running attempts are stopped (results dropped), or left running with leaveRunning. */
  async stop(options: { leaveRunning?: boolean } = {}): Promise<void> {
    this.loopAbort.abort();
    this.stream?.cancel();
    this.rejectRegistered(new Error('the worker stopped before it registered with the master'));
    await this.loopDone;
    const runners = [...this.runners.values()];
    await Promise.all(
      runners.map((runner) => (options.leaveRunning ? runner.detach() : runner.abandon(this.options.config.cancelGraceSeconds))),
    );
  }

  // ------------------------------------------------------------------ AttemptReporter

  event(attemptId: string, kind: AttemptEventKind, message: string, atMs: number, effective?: EffectiveSettings): void {
    this.send({ event: { attemptId, kind, message, atMs, ...(effective ? { effective } : {}) } });
  }

  result(result: StoredResult): void {
    this.send({ result });
  }

  // ------------------------------------------------------------------ main loop

  private async loop(): Promise<void> {
    const signal = this.loopAbort.signal;
    const backoff = new Backoff(this.backoffOptions);
    while (!signal.aborted) {
      let healthy = false;
      try {
        const response = await this.register();
        if (signal.aborted) break;
        this.applyRegistration(response);
        this.resolveRegistered();
        healthy = await this.converse(response.sessionToken);
      } catch (error: unknown) {
        if (signal.aborted) break;
        this.logFailure(error);
      }
      if (healthy) backoff.reset();
      if (signal.aborted) break;
      const delayMs = backoff.nextDelayMs();
      this.logger.debug({ delayMs }, 'reconnecting to the master');
      await sleep(delayMs, signal);
    }
  }

  private logFailure(error: unknown): void {
    const code = grpcStatusOf(error);
    if (code === grpc.status.UNAUTHENTICATED) {
      this.logger.error(
        { master: this.options.config.masterAddress, reason: describeGrpcError(error) },
        'the master refused the join token; check --token / WHARF_JOIN_TOKEN (retrying)',
      );
    } else {
      this.logger.warn(
        { master: this.options.config.masterAddress, reason: describeGrpcError(error) },
        'cannot reach the master (retrying)',
      );
    }
  }

  private register(): Promise<RegisterResponse__Output> {
    const { config, workerId, hostname, version, capacity, gateway } = this.options;
    const request: RegisterRequest = {
      joinToken: config.joinToken,
      workerId,
      name: config.name,
      hostname,
      capacity,
      runtimes: config.runtimes,
      labels: config.labels,
      // attempts still running here, and those whose result waits in the outbox: the master
      // must not give either away before their result arrives
      running: [
        ...[...this.runners.values()].map((r) => ({ attemptId: r.attemptId, taskId: r.taskId })),
        ...this.options.outbox
          .list()
          .filter((result) => !this.runners.has(result.attemptId))
          .map((result) => ({ attemptId: result.attemptId, taskId: result.taskId })),
      ],
      version,
    };
    return new Promise((resolve, reject) => {
      const call = gateway.client.Register(request, { deadline: Date.now() + REGISTER_DEADLINE_MS }, (error, response) => {
        this.loopAbort.signal.removeEventListener('abort', onAbort);
        if (error || !response) reject(error ?? new Error('empty Register response'));
        else resolve(response);
      });
      const onAbort = (): void => call.cancel();
      this.loopAbort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private applyRegistration(response: RegisterResponse__Output): void {
    if (response.workerId && response.workerId !== this.options.workerId) {
      this.logger.warn({ masterWorkerId: response.workerId }, 'the master answered with another worker id');
    }
    this.options.gateway.setSessionToken(response.sessionToken);
    if (response.heartbeatIntervalMs > 0) {
      this.heartbeatIntervalMs = response.heartbeatIntervalMs;
      this.options.sampler.setIntervalMs(response.heartbeatIntervalMs);
    }
    this.setDraining(response.draining);
    for (const attemptId of response.stopAttempts) this.dropAttempt(attemptId);
    this.logger.info(
      { running: this.runners.size, stopAttempts: response.stopAttempts.length, heartbeatMs: this.heartbeatIntervalMs },
      'registered with the master',
    );
  }

  /** Runs one Connect stream to its end; returns whether it was healthy (for the backoff). */
  private async converse(sessionToken: string): Promise<boolean> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${sessionToken}`);
    const call = this.options.gateway.client.Connect(metadata);
    this.stream = call;
    const openedAt = Date.now();
    let received = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const ended = new Promise<unknown>((resolve) => {
      call.on('data', (message: MasterMessage__Output) => {
        received = true;
        this.onMasterMessage(message);
      });
      call.on('error', (error: Error) => resolve(error));
      call.on('end', () => resolve(undefined));
      call.on('close', () => resolve(undefined));
    });
    try {
      this.sendHeartbeat();
      heartbeat = setInterval(() => this.sendHeartbeat(), this.heartbeatIntervalMs);
      for (const result of this.options.outbox.list()) this.send({ result });
      const error = await ended;
      if (!this.loopAbort.signal.aborted) {
        if (error !== undefined) this.logger.warn({ reason: describeGrpcError(error) }, 'connection to the master lost');
        else this.logger.warn('the master ended the connection');
      }
    } finally {
      clearInterval(heartbeat);
      if (this.stream === call) this.stream = undefined;
      call.end();
      call.cancel();
    }
    return received || Date.now() - openedAt >= HEALTHY_STREAM_MS;
  }

  private send(message: WorkerMessage): void {
    const stream = this.stream;
    if (!stream || stream.writableEnded || stream.destroyed) return;
    try {
      stream.write(message);
    } catch (error: unknown) {
      this.logger.debug({ err: error }, 'cannot write to the master stream');
    }
  }

  private sendHeartbeat(): void {
    this.send({
      heartbeat: {
        usage: this.options.sampler.latest(),
        runningAttempts: this.runningAttemptIds(),
        sentAtMs: Date.now(),
        cachedArtifacts: this.options.cache?.digests(1000) ?? [],
      },
    });
  }

  private onMasterMessage(message: MasterMessage__Output): void {
    switch (message.payload) {
      case 'assign':
        if (message.assign) this.onAssign(message.assign);
        return;
      case 'cancel': {
        const cancel = message.cancel;
        if (!cancel) return;
        const runner = this.runners.get(cancel.attemptId);
        if (!runner) {
          this.logger.debug({ attemptId: cancel.attemptId }, 'cancel for an attempt that is not running here');
          return;
        }
        const grace = cancel.graceSeconds > 0 ? cancel.graceSeconds : this.options.config.cancelGraceSeconds;
        runner.cancel(grace, cancel.reason);
        return;
      }
      case 'resultAck':
        if (message.resultAck) this.onResultAck(message.resultAck.attemptId);
        return;
      case 'drain':
        this.setDraining(message.drain?.draining ?? false);
        return;
      default:
        this.logger.debug({ payload: message.payload }, 'ignoring an unknown message from the master');
    }
  }

  private onAssign(spec: TaskSpec__Output): void {
    const attemptId = spec.attemptId;
    if (this.runners.has(attemptId) || this.options.outbox.has(attemptId) || this.settled.has(attemptId)) {
      this.send({ accepted: { attemptId } });
      return;
    }
    this.send({ accepted: { attemptId } });
    if (!isSafeAttemptId(attemptId)) {
      this.remember(attemptId);
      const now = Date.now();
      this.send({
        result: {
          attemptId,
          taskId: spec.taskId,
          outcome: 'error',
          error: `attempt id ${JSON.stringify(attemptId)} is not usable as a folder or container name`,
          startedAtMs: now,
          finishedAtMs: now,
        },
      });
      return;
    }
    const runtimeName = spec.runtime || this.options.config.runtimes[0] || 'docker';
    const runtime = [...this.options.runtimes.values()].find((r) => r.name === runtimeName);
    this.logger.info({ attemptId, taskId: spec.taskId, image: spec.image, runtime: runtimeName }, 'accepted an attempt');
    this.startRunner({ kind: 'assigned', assignment: assignmentOf(spec, runtimeName) }, runtime);
  }

  private startRunner(source: AttemptSource, runtime: TaskRuntime | undefined): void {
    const { config } = this.options;
    const attemptId = source.kind === 'assigned' ? source.assignment.spec.attemptId : source.recovered.handle.attemptId;
    const runner = new AttemptRunner({
      source,
      runtime,
      offeredRuntimes: config.runtimes,
      paths: attemptPaths(this.options.attemptsDir, attemptId),
      outbox: this.options.outbox,
      gateway: this.options.gateway,
      uploader: this.options.uploader,
      reporter: this,
      config,
      backoff: this.backoffOptions,
      logger: this.options.logger,
      cache: this.options.cache,
    });
    this.runners.set(attemptId, runner);
    void runner.run().finally(() => {
      if (this.runners.get(attemptId) === runner) this.runners.delete(attemptId);
      this.remember(attemptId);
      if (this.acked.has(attemptId)) void this.forget(attemptId);
    });
  }

  private onResultAck(attemptId: string): void {
    this.remember(attemptId);
    if (!this.options.outbox.has(attemptId)) return;
    this.logger.debug({ attemptId }, 'result acknowledged');
    remember(this.acked, attemptId);
    void this.forget(attemptId);
  }

  /** The master gave this attempt to another worker: stop it, drop its result. */
  private dropAttempt(attemptId: string): void {
    this.remember(attemptId);
    const runner = this.runners.get(attemptId);
    if (runner) {
      this.logger.info({ attemptId }, 'the master gave this attempt to another worker; stopping it');
      void runner.abandon(0);
    }
    if (this.options.outbox.has(attemptId)) void this.forget(attemptId);
  }

  /** Deletes an attempt's result and its folder. */
  private async forget(attemptId: string): Promise<void> {
    try {
      await this.options.outbox.delete(attemptId);
      if (!this.runners.has(attemptId) && isSafeAttemptId(attemptId)) {
        // removeTree: a task's /output may be deeper than Node's rm can walk
        await removeTree(attemptPaths(this.options.attemptsDir, attemptId).root);
      }
    } catch (error: unknown) {
      this.logger.warn({ err: error, attemptId }, 'cannot remove an acknowledged attempt');
    }
  }

  private remember(attemptId: string): void {
    remember(this.settled, attemptId);
  }

  private setDraining(draining: boolean): void {
    if (draining !== this.draining) this.logger.info({ draining }, draining ? 'the master drains this worker' : 'draining lifted');
    this.draining = draining;
  }
}

/** Adds to a set that keeps only the newest SETTLED_MEMORY ids. */
function remember(ids: Set<string>, attemptId: string): void {
  ids.delete(attemptId);
  ids.add(attemptId);
  if (ids.size > SETTLED_MEMORY) {
    const oldest = ids.values().next().value;
    if (oldest !== undefined) ids.delete(oldest);
  }
}
