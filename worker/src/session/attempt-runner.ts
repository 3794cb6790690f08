// One attempt's life on this worker, from assignment (or recovery after a restart) to its
// result in the outbox:
//
//   prepare folders → stage DAG inputs into <attempt>/input (artifact cache: hit, or fetch
//     from the master / a presigned URL; each input reports hit or miss and bytes)
//     → start (pull if needed; events pulling/pulled, then started)
//     → follow logs, enforce the timeout, wait for the exit
//     → upload outputs (S3: declared outputs also PUT straight to the bucket) → flush logs and wait for LogAck → result into the outbox → send it
//     → finally: remove the container (every started container is released here)
//
// Exactly one result per attempt, except when the attempt is dropped: abandon() (the master
// gave it to another worker, or the worker stops its tasks on shutdown) and detach() (the
// worker stops but leaves the task running for a restarted worker to recover). An attempt
// stopped because the worker lost the master (stopForLostContact, fencing) reports `stopped`;
// its logs, outputs and result wait for the master like any other (it refuses the outputs of
// an attempt it has given away).
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { InputReport__Output } from '@wharf/proto';
import type { ArtifactCache, StagedInput } from '../cache/artifact-cache.js';
import { fetchFromMaster } from '../cache/master-transfer.js';
import { fetchFromUrl, redact } from '../cache/presigned-transfer.js';
import type { RuntimeName, WorkerConfig } from '../config/worker-config.js';
import { LogShipper } from '../logs/log-shipper.js';
import type { ResultOutbox, StoredResult } from '../outbox/result-outbox.js';
import { uploadDeclaredOutputs } from '../outputs/direct-artifact-upload.js';
import { removeTree } from '../outputs/remove-tree.js';
import type { OutputUploader } from '../outputs/output-uploader.js';
import type { BackoffOptions } from '../retry/backoff.js';
import { sleep } from '../retry/backoff.js';
import { RuntimeError, errorMessage } from '../runtime/runtime-error.js';
import type { AttemptPaths, EffectiveSettings, RecoveredAttempt, RuntimeHandle, StartOptions, TaskRuntime } from '../runtime/task-runtime.js';
import { spoolFileOf } from './attempt-paths.js';
import type { Assignment } from './assignment.js';
import type { GatewayConnection } from './gateway-connection.js';

export type AttemptEventKind = 'pulling' | 'pulled' | 'pull_progress' | 'started';

/** How a runner tells the master about its attempt (implemented by the session). */
export interface AttemptReporter {
  /** `effective`: with `started`, what the runtime applied to the task (when it says) */
  event(attemptId: string, kind: AttemptEventKind, message: string, atMs: number, effective?: EffectiveSettings): void;
  result(result: StoredResult): void;
}

export type AttemptSource =
  | { kind: 'assigned'; assignment: Assignment }
  | { kind: 'recovered'; recovered: RecoveredAttempt };

export interface AttemptRunnerOptions {
  source: AttemptSource;
  /** The runtime the attempt asks for, or undefined when this worker does not offer it. */
  runtime: TaskRuntime | undefined;
  offeredRuntimes: readonly RuntimeName[];
  paths: AttemptPaths;
  outbox: ResultOutbox;
  gateway: GatewayConnection;
  uploader: OutputUploader;
  reporter: AttemptReporter;
  config: Pick<WorkerConfig, 'cancelGraceSeconds' | 'logBatchMs' | 'logBatchBytes'>;
  backoff: BackoffOptions;
  logger: Logger;
  /** the worker's artifact cache (DAG inputs); absent = inputs are fetched without a cache */
  cache?: ArtifactCache | undefined;
}

/** A staged input's name must stay inside the input folder (the master checks it too). */
const SAFE_INPUT_NAME = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^\\\0]+$/;

/**
 * After the task exits, its log stream may lag behind (a busy machine, a chatty task): keep
 * reading for as long as lines keep coming, and give up only after this long without any.
 */
const LOG_DRAIN_IDLE_MS = 10_000;

export class AttemptRunner {
  readonly attemptId: string;
  readonly taskId: string;
  private readonly timeoutSeconds: number;
  private readonly runtimeName: string;
  private readonly logger: Logger;
  /** Aborts a start in progress (cancel while pulling). */
  private readonly startAbort = new AbortController();
  /** Aborts everything this runner waits on (abandon, detach). */
  private readonly lifeAbort = new AbortController();
  private handle: RuntimeHandle | undefined;
  private shipper: LogShipper | undefined;
  private stopping: Promise<void> | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private stopOutcome: { outcome: 'cancelled' | 'timed_out' | 'stopped'; message: string } | undefined;
  /** the task's process or container has ended (its exit is known) */
  private taskEnded = false;
  private drop: 'abandon' | 'detach' | undefined;
  /** pins on cached inputs, released when the attempt ends */
  private readonly staged: StagedInput[] = [];
  private ended = false;
  private finished: Promise<void> | undefined;

  constructor(private readonly options: AttemptRunnerOptions) {
    const source = options.source;
    if (source.kind === 'assigned') {
      const { spec } = source.assignment;
      this.attemptId = spec.attemptId;
      this.taskId = spec.taskId;
      this.timeoutSeconds = spec.timeoutSeconds;
      this.runtimeName = spec.runtime;
    } else {
      this.handle = source.recovered.handle;
      this.attemptId = source.recovered.handle.attemptId;
      this.taskId = source.recovered.handle.taskId;
      this.timeoutSeconds = source.recovered.timeoutSeconds;
      this.runtimeName = source.recovered.handle.runtime;
    }
    this.logger = options.logger.child({ taskId: this.taskId, attemptId: this.attemptId });
  }

  /** Runs the attempt to its end; resolves when the runner has nothing left to do. Never rejects. */
  run(): Promise<void> {
    this.finished ??= this.life().catch((error: unknown) => {
      this.logger.error({ err: error }, 'attempt runner failed');
    });
    return this.finished;
  }

  /** The master cancelled the attempt: stop it (SIGTERM, grace, SIGKILL) and report `cancelled`. */
  cancel(graceSeconds: number, reason: string): void {
    if (this.ended || this.drop) return;
    if (this.stopOutcome) return;
    this.stopOutcome = { outcome: 'cancelled', message: reason ? `cancelled: ${reason}` : 'cancelled' };
    this.logger.info({ graceSeconds, reason }, 'cancelling the attempt');
    this.shipper?.note(`cancel requested${reason ? ` (${reason})` : ''}; stopping the task`);
    this.startAbort.abort();
    this.requestStop(graceSeconds);
  }

  /**
   * The worker lost contact with the master (fencing): stop the task (SIGTERM, grace, SIGKILL)
   * and report `stopped` with `message`. Answers whether there was a task to stop.
   */
  stopForLostContact(graceSeconds: number, message: string): boolean {
    if (this.ended || this.drop || this.stopOutcome || this.taskEnded) return false;
    const source = this.options.source;
    if (source.kind === 'recovered' && !source.recovered.running) return false; // it ended while the worker was away
    this.stopOutcome = { outcome: 'stopped', message };
    this.logger.warn({ graceSeconds }, 'stopping the attempt: no contact with the master');
    this.shipper?.note(`${message}; stopping the task`);
    this.startAbort.abort();
    this.requestStop(graceSeconds);
    return true;
  }

  /** Whether the attempt was stopped because the worker lost the master (its result is still delivered). */
  get stoppedForLostContact(): boolean {
    return this.stopOutcome?.outcome === 'stopped';
  }

  /** Stops the task and drops its result (the attempt is no longer ours, or the worker stops). */
  abandon(graceSeconds: number): Promise<void> {
    if (!this.drop && !this.ended) {
      this.drop = 'abandon';
      this.logger.info('dropping the attempt');
      this.startAbort.abort();
      this.requestStop(graceSeconds);
      this.lifeAbort.abort();
    }
    return this.run();
  }

  /** Lets go of the attempt but leaves its container running (recovered by the next worker start). */
  detach(): Promise<void> {
    if (!this.drop && !this.ended) {
      this.drop = 'detach';
      this.startAbort.abort();
      this.lifeAbort.abort();
    }
    return this.run();
  }

  private requestStop(graceSeconds: number): void {
    const { runtime } = this.options;
    const handle = this.handle;
    if (!runtime || !handle || this.stopping) return;
    this.stopping = runtime.stop(handle, graceSeconds).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not stop the task');
    });
  }

  private async life(): Promise<void> {
    const { paths, runtime, outbox, reporter } = this.options;
    const result: StoredResult = {
      attemptId: this.attemptId,
      taskId: this.taskId,
      outcome: 'error',
      exitCode: 0,
      hasExitCode: false,
      startedAtMs: 0,
      finishedAtMs: 0,
      error: '',
      files: [],
      logChunks: 0,
      inputs: [],
      directUploads: null,
    };
    let resultWritten = false;
    try {
      await mkdir(paths.root, { recursive: true });
      const shipper = await LogShipper.open({
        attemptId: this.attemptId,
        spoolFile: spoolFileOf(paths),
        gateway: this.options.gateway,
        batchBytes: this.options.config.logBatchBytes,
        batchMs: this.options.config.logBatchMs,
        backoff: this.options.backoff,
        logger: this.logger,
      });
      this.shipper = shipper;

      const handle = this.handle ?? (await this.startTask(shipper, result));
      if (handle) {
        this.handle = handle;
        result.startedAtMs = handle.startedAtMs;
        reporter.event(this.attemptId, 'started', `started on runtime ${handle.runtime}`, handle.startedAtMs, handle.effective);
        if (this.drop === 'abandon') this.requestStop(0);
        else if (this.stopOutcome) this.requestStop(this.options.config.cancelGraceSeconds);
        await this.supervise(handle, shipper, result);
        if (!this.drop) await this.uploadOutputs(handle, shipper, result);
      }
      if (this.drop) return;

      const logs = await shipper.finish();
      result.logChunks = logs.chunks;
      if (!logs.acknowledged) this.logger.warn({ chunks: logs.chunks }, 'the master did not acknowledge every log chunk');
      if (this.drop) return;
      if (result.finishedAtMs === 0) result.finishedAtMs = Date.now();
      this.ended = true;
      await outbox.put(result);
      resultWritten = true;
      this.logger.info({ outcome: result.outcome, exitCode: result.exitCode, files: result.files.length }, 'attempt finished');
      reporter.result(result);
    } catch (error: unknown) {
      if (this.drop || resultWritten) throw error;
      this.ended = true;
      result.outcome = 'error';
      result.error = `worker error: ${errorMessage(error)}`;
      result.logChunks = this.shipper?.chunks ?? 0;
      if (result.finishedAtMs === 0) result.finishedAtMs = Date.now();
      this.logger.error({ err: error }, 'attempt failed inside the worker');
      try {
        await outbox.put(result);
      } catch (putError: unknown) {
        this.logger.error({ err: putError }, 'cannot store the result in the outbox; sending it once');
      }
      reporter.result(result);
    } finally {
      await this.release();
    }
  }

  /** Starts the task; on failure fills the result and returns undefined. */
  private async startTask(shipper: LogShipper, result: StoredResult): Promise<RuntimeHandle | undefined> {
    const { runtime, source } = this.options;
    if (source.kind !== 'assigned') return undefined;
    const failed = (outcome: 'error' | 'cancelled' | 'stopped', message: string): undefined => {
      result.outcome = outcome;
      result.error = message;
      result.finishedAtMs = Date.now();
      return undefined;
    };
    if (!runtime) {
      const message = `runtime "${this.runtimeName}" is not offered by this worker (it offers: ${this.options.offeredRuntimes.join(', ')})`;
      shipper.note(message);
      return failed('error', message);
    }
    if (this.stopOutcome) return failed(this.stopOutcome.outcome === 'stopped' ? 'stopped' : 'cancelled', this.stopOutcome.message);
    const startOptions: StartOptions = {
      onEvent: (kind, message) => this.options.reporter.event(this.attemptId, kind, message, Date.now()),
      note: (text) => shipper.note(text),
      signal: this.startAbort.signal,
    };
    const { assignment } = source;
    if (assignment.inputs.length > 0) {
      try {
        Object.assign(startOptions, await this.stageInputs(assignment, runtime, shipper, result));
      } catch (error: unknown) {
        const stop = this.currentStopOutcome();
        if (stop) return failed(stop.outcome === 'stopped' ? 'stopped' : 'cancelled', stop.message);
        const message = `cannot stage the task's inputs: ${errorMessage(error)}`;
        this.logger.warn({ reason: message }, 'cannot stage inputs');
        shipper.note(message);
        return failed('error', message);
      }
      const stop = this.currentStopOutcome(); // may have been set while inputs were staged
      if (stop) return failed(stop.outcome === 'stopped' ? 'stopped' : 'cancelled', stop.message);
    }
    try {
      return await runtime.start(assignment.spec, this.options.paths, startOptions);
    } catch (error: unknown) {
      const stop = this.currentStopOutcome(); // may have been set while start() ran
      if (stop || (error instanceof RuntimeError && error.code === 'cancelled')) {
        return failed(stop?.outcome === 'stopped' ? 'stopped' : 'cancelled', stop?.message ?? 'cancelled before the task started');
      }
      const message = errorMessage(error);
      this.logger.warn({ reason: message }, 'cannot start the task');
      shipper.note(`cannot run the task: ${message}`);
      return failed('error', message);
    }
  }

  /**
   * DAG inputs: the worker stages them in <attempt>/input (through the artifact cache unless the
   * DAG turned it off), except for a runtime that stages inputs itself (kubernetes: inside the
   * pod), which needs a URL for each (an S3 artifact backend).
   */
  private async stageInputs(
    assignment: Assignment,
    runtime: TaskRuntime,
    shipper: LogShipper,
    result: StoredResult,
  ): Promise<Pick<StartOptions, 'inputDir' | 'inputs'>> {
    for (const input of assignment.inputs) {
      if (!SAFE_INPUT_NAME.test(input.name)) throw new Error(`input name ${JSON.stringify(input.name)} is not a relative path`);
    }
    if (runtime.capabilities.stagesInputsItself) {
      const withUrls = assignment.inputs.flatMap((input) => (input.url === undefined ? [] : [{ ...input, url: input.url }]));
      if (withUrls.length < assignment.inputs.length) {
        throw new Error(`the ${runtime.name} runtime fetches inputs itself and needs presigned URLs: run the master with the S3 artifact backend (WHARF_S3_ENDPOINT)`);
      }
      // fetched by the runtime (the pod's init container); the worker's cache is not involved
      result.inputs = withUrls.map((input) => ({ name: input.name, sha256: input.sha256, cacheHit: false, bytes: input.size }));
      return { inputs: withUrls.map((input) => ({ name: input.name, sha256: input.sha256, size: input.size, url: input.url })) };
    }
    const inputDir = path.join(this.options.paths.root, 'input');
    await rm(inputDir, { recursive: true, force: true });
    await mkdir(inputDir, { recursive: true, mode: 0o755 });
    const cache = this.options.cache;
    const useCache = assignment.useCache && cache !== undefined;
    const reports: InputReport__Output[] = [];
    // one at a time: inputs of one task are usually few, and the cache fetches each digest once anyway
    for (const input of assignment.inputs) {
      const signal = this.startAbort.signal;
      if (signal.aborted) throw new Error('cancelled while staging inputs');
      const fetch = input.url !== undefined ? fetchFromUrl(input.url) : fetchFromMaster(this.options.gateway, this.attemptId, input.sha256, signal);
      const dest = path.join(inputDir, ...input.name.split('/'));
      const artifact = { sha256: input.sha256, size: input.size };
      let staged: StagedInput;
      if (cache) staged = await cache.stage({ artifact, dest, fetch, useCache });
      else throw new Error('this worker has no artifact cache');
      this.staged.push(staged);
      reports.push({ name: input.name, sha256: input.sha256, cacheHit: useCache && staged.hit, bytes: staged.bytes });
      const from = input.url !== undefined ? redact(input.url) : 'the master';
      shipper.note(`input ${input.name}: ${useCache && staged.hit ? 'from the cache' : `downloaded from ${from}`} (${staged.bytes} bytes)`);
    }
    result.inputs = reports;
    return { inputDir };
  }

  private currentStopOutcome(): AttemptRunner['stopOutcome'] {
    return this.stopOutcome;
  }

  /** Follows the running task to its end: logs, timeout, exit code, outcome. */
  private async supervise(handle: RuntimeHandle, shipper: LogShipper, result: StoredResult): Promise<void> {
    const runtime = this.options.runtime;
    if (!runtime) return;
    const signal = this.lifeAbort.signal;
    let lastLogAt = Date.now();
    let logsFinished = false;
    const logsDone = (async () => {
      try {
        const logOptions: { signal: AbortSignal; after?: string } = { signal };
        const after = shipper.resumeCursor;
        if (after !== undefined) logOptions.after = after;
        for await (const entry of runtime.logs(handle, logOptions)) {
          lastLogAt = Date.now();
          shipper.write(entry.stream === 'stdout' ? 'STDOUT' : 'STDERR', entry.data, entry.cursor);
        }
      } catch (error: unknown) {
        if (!signal.aborted) {
          this.logger.warn({ err: error }, 'lost the task\'s log stream');
          shipper.note(`the task's log stream broke (${errorMessage(error)}); later output may be missing`);
        }
      } finally {
        logsFinished = true;
      }
    })();
    this.armTimeout(handle, shipper);
    try {
      const exit = await runtime.wait(handle, signal);
      this.taskEnded = true;
      result.finishedAtMs = Date.now();
      result.exitCode = exit.exitCode;
      result.hasExitCode = true;
      // a reason from the runtime (a limit it hit, a kill from outside) fails the task whatever its exit code
      result.outcome = this.stopOutcome?.outcome ?? (exit.reason === undefined && exit.exitCode === 0 ? 'succeeded' : 'failed');
      result.error = this.stopOutcome?.message ?? exit.reason ?? '';
      if (!this.stopOutcome && exit.reason) shipper.note(exit.reason);
      if (exit.note) shipper.note(exit.note);
    } catch (error: unknown) {
      if (this.drop) return;
      result.finishedAtMs = Date.now();
      result.outcome = 'error';
      result.error = `lost track of the task: ${errorMessage(error)}`;
    } finally {
      clearTimeout(this.timeoutTimer);
    }
    // drain: wait while the log stream still delivers; never cut it off while lines flow
    lastLogAt = Math.max(lastLogAt, Date.now());
    while (!logsFinished && !signal.aborted) {
      const idleMs = Date.now() - lastLogAt;
      if (idleMs >= LOG_DRAIN_IDLE_MS) {
        this.logger.warn('the log stream did not end after the task exited; continuing without it');
        shipper.note(`the task ended but its log stream stayed open ${LOG_DRAIN_IDLE_MS / 1000} s with no new output; stopped reading it`);
        break;
      }
      await Promise.race([logsDone, sleep(Math.min(500, LOG_DRAIN_IDLE_MS - idleMs), signal)]);
    }
    if (this.stopping) await this.stopping;
  }

  private armTimeout(handle: RuntimeHandle, shipper: LogShipper): void {
    if (this.timeoutSeconds <= 0) return;
    const source = this.options.source;
    if (source.kind === 'recovered' && !source.recovered.running) return; // it ended on its own
    const remainingMs = handle.startedAtMs + this.timeoutSeconds * 1000 - Date.now();
    this.timeoutTimer = setTimeout(() => {
      if (this.ended || this.drop || this.stopOutcome) return;
      this.stopOutcome = { outcome: 'timed_out', message: `timed out after ${this.timeoutSeconds} s` };
      this.logger.info({ timeoutSeconds: this.timeoutSeconds }, 'attempt timed out; stopping it');
      shipper.note(`timeout of ${this.timeoutSeconds} s reached; stopping the task`);
      this.requestStop(this.options.config.cancelGraceSeconds);
    }, Math.max(0, remainingMs));
  }

  private async uploadOutputs(handle: RuntimeHandle, shipper: LogShipper, result: StoredResult): Promise<void> {
    const runtime = this.options.runtime;
    if (!runtime) return;
    const outputDir = await runtime.collectOutputs(handle);
    const upload = await this.options.uploader.upload(
      this.attemptId,
      outputDir,
      (text) => shipper.note(text),
      this.lifeAbort.signal,
    );
    switch (upload.kind) {
      case 'stored':
        result.files = upload.files;
        await this.uploadDeclaredOutputs(outputDir, shipper, result);
        return;
      case 'not_ours':
        this.logger.info({ reason: upload.message }, 'the master no longer expects outputs of this attempt');
        return;
      case 'refused':
      case 'failed':
        if (this.drop) return;
        this.logger.warn({ reason: upload.message }, 'outputs not uploaded');
        shipper.note(upload.message);
        // a task that failed on its own stays failed, its cause first (out of memory, a disk
        // limit: often why its outputs are too big); any other becomes an error
        if (result.outcome === 'failed' || result.outcome === 'timed_out') {
          result.error = result.error ? `${result.error}; ${upload.message}` : upload.message;
        } else {
          result.outcome = 'error';
          result.error = upload.message;
        }
        return;
    }
  }

  /**
   * S3 artifact backend (the assignment lists direct_outputs): a succeeded task's declared
   * outputs go straight to the object store; the result reports them for the master to confirm.
   * A task recovered after a worker restart has no assignment at hand: it reports none, and the
   * master stores those outputs from its copy of the task's files.
   */
  private async uploadDeclaredOutputs(outputDir: string, shipper: LogShipper, result: StoredResult): Promise<void> {
    const source = this.options.source;
    const names = source.kind === 'assigned' ? source.assignment.directOutputs : [];
    if (names.length === 0 || result.outcome !== 'succeeded' || this.drop) return;
    const upload = await uploadDeclaredOutputs({
      gateway: this.options.gateway,
      attemptId: this.attemptId,
      names,
      files: result.files,
      outputDir,
      note: (text) => shipper.note(text),
      backoff: this.options.backoff,
      logger: this.logger,
      signal: this.lifeAbort.signal,
    });
    switch (upload.kind) {
      case 'uploaded':
        result.directUploads = { artifacts: upload.artifacts };
        return;
      case 'not_ours':
        this.logger.info({ reason: upload.message }, 'the master no longer expects outputs of this attempt');
        return;
      case 'failed':
        if (this.drop) return;
        this.logger.warn({ reason: upload.message }, 'declared outputs not uploaded to the object store');
        shipper.note(upload.message);
        result.outcome = 'error';
        result.error = upload.message;
        return;
    }
  }

  /** Releases what the attempt holds, whatever path it took. */
  private async release(): Promise<void> {
    this.ended = true;
    clearTimeout(this.timeoutTimer);
    for (const staged of this.staged.splice(0)) staged.release();
    const { runtime, paths } = this.options;
    const handle = this.handle;
    if (this.drop) await this.shipper?.abandon();
    else await this.shipper?.close();
    if (this.drop === 'detach') return; // the task keeps running; the next worker start recovers it
    if (this.stopping) await this.stopping;
    if (runtime && handle) {
      try {
        await runtime.cleanup(handle);
      } catch (error: unknown) {
        this.logger.warn({ err: error }, 'could not remove the task\'s container');
      }
    }
    if (this.drop === 'abandon') await removeTree(paths.root);
  }
}
