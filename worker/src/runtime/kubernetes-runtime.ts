// Runs each attempt as one pod (see kubernetes-pod-spec.ts for its shape) through the
// Kubernetes API with @kubernetes/client-node:
//
//   start    create the pod → follow it (watch) until the task container runs → lower the
//            pod's activeDeadlineSeconds to what is left of the task's timeout. A pull error
//            or a failed input download fails at once; a pod still Pending after the pending
//            limit (unschedulable, waiting for a volume…) fails with the reason Kubernetes
//            gives; either way the pod is deleted.
//   logs     the task container's log, followed from its start with timestamps (the cursor);
//            re-opened after the last timestamp if the server closes it while the task runs.
//            Kubernetes merges stdout and stderr in this API, so every entry is 'stdout'.
//   wait     the task container's terminated state gives the exit code; an eviction, a
//            passed deadline or a pod deleted outside Wharf becomes a clear error.
//   stop     deletes the pod with the grace period (SIGTERM, then SIGKILL); resolves once
//            the task container has ended or the pod is gone. The pod's /output goes with it:
//            a cancelled or timed-out attempt has no outputs on Kubernetes (Docker keeps them).
//   collectOutputs  once the task has ended, `tar cf - -C /output .` runs in the sidecar
//            through the API's exec and is unpacked into the attempt's host output folder,
//            which the uploader then walks exactly as for Docker.
//   cleanup  deletes the pod (the runner calls it after the outputs were uploaded and the
//            result is in the outbox, so nothing of the attempt is lost with it).
//   recover  lists this worker's pods by label; running ones are followed again, ended ones
//            reported, and pods whose task never started are deleted.
import { PassThrough } from 'node:stream';
import { mkdir } from 'node:fs/promises';
import {
  ApiException,
  CoreV1Api,
  Exec,
  type KubeConfig,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import { formatBytes } from '@wharf/proto';
import type { Logger } from 'pino';
import type { KubernetesToleration } from '../config/worker-config.js';
import { KubernetesLogLineParser, isLogCursorAfter } from './kubernetes-log-lines.js';
import {
  ANNOTATION_ATTEMPT_ID,
  ANNOTATION_OUTPUT_DIR,
  ANNOTATION_TASK_ID,
  ANNOTATION_TIMEOUT,
  DEADLINE_GRACE_SECONDS,
  LABEL_ATTEMPT,
  LABEL_MANAGED_BY,
  LABEL_TASK,
  LABEL_WORKER,
  OUTPUTS_CONTAINER,
  PodSpecError,
  TASK_CONTAINER,
  buildTaskPod,
  effectiveOfPod,
  labelValueOf,
  podNameOf,
} from './kubernetes-pod-spec.js';
import { type PodState, readPodState } from './kubernetes-pod-state.js';
import { PodTracker, PodWaitTimeout } from './kubernetes-pod-tracker.js';
import { extractTar } from './kubernetes-tar.js';
import { RuntimeError, errorMessage } from './runtime-error.js';
import type {
  AttemptPaths,
  AttemptSpec,
  ExitStatus,
  LogOptions,
  RecoveredAttempt,
  RuntimeCapabilities,
  RuntimeHandle,
  RuntimeLogEntry,
  StartOptions,
  TaskRuntime,
} from './task-runtime.js';

export interface KubernetesRuntimeOptions {
  kubeConfig: KubeConfig;
  workerId: string;
  namespace: string;
  serviceAccount?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: KubernetesToleration[];
  imagePullSecrets?: string[];
  helperImage: string;
  cacheHostPath?: string;
  /** A pod whose task container has not started after this long fails the attempt. */
  pendingTimeoutMs: number;
  logger: Logger;
  /** How often a followed pod is read again even when its watch is silent (default 10 s). */
  resyncMs?: number;
  /** Seconds the pod's deadline allows beyond the task's timeout (default DEADLINE_GRACE_SECONDS). */
  deadlineGraceSeconds?: number;
}

/** The pod failed in a way that has no exit code (evicted, past its deadline, deleted by someone). */
export class PodFailure extends Error {
  override readonly name = 'PodFailure';
}

interface PodHandleState {
  podName: string;
  outputDir: string;
  tracker: PodTracker;
  stopRequested: boolean;
  outputsCollected: boolean;
  /** A note into the task's log (set for attempts started by this instance). */
  note?: (text: string) => void;
}

/** If a delete does not finish within grace + this, stop() stops waiting for it. */
const STOP_SLACK_MS = 60_000;
/** Deleting a pod that is being replaced (same attempt, earlier run of this worker) may take this long. */
const REPLACE_WAIT_MS = 60_000;

export class KubernetesRuntime implements TaskRuntime {
  readonly name = 'kubernetes' as const;
  /** the pod's init container fetches inputs from their URLs; the pod log API merges stdout and stderr */
  readonly capabilities: RuntimeCapabilities = { stagesInputsItself: true, mergesStdStreams: true };
  private readonly core: CoreV1Api;
  private readonly handles = new WeakMap<RuntimeHandle, PodHandleState>();
  private readonly workerLabel: string;

  constructor(private readonly options: KubernetesRuntimeOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.workerLabel = labelValueOf(options.workerId);
  }

  private get deadlineGraceSeconds(): number {
    return this.options.deadlineGraceSeconds ?? DEADLINE_GRACE_SECONDS;
  }

  get namespace(): string {
    return this.options.namespace;
  }

  async start(spec: AttemptSpec, paths: AttemptPaths, options: StartOptions = {}): Promise<RuntimeHandle> {
    if (spec.image.trim() === '') throw new RuntimeError('unsupported', 'the task names no image');
    throwIfAborted(options.signal);
    await mkdir(paths.output, { recursive: true });

    let manifest: V1Pod;
    try {
      manifest = buildTaskPod(
        { spec, outputDir: paths.output, ...(options.inputs ? { inputs: options.inputs } : {}) },
        {
          workerId: this.options.workerId,
          namespace: this.options.namespace,
          ...(this.options.serviceAccount !== undefined ? { serviceAccount: this.options.serviceAccount } : {}),
          nodeSelector: this.options.nodeSelector ?? {},
          tolerations: this.options.tolerations ?? [],
          imagePullSecrets: this.options.imagePullSecrets ?? [],
          helperImage: this.options.helperImage,
          ...(this.options.cacheHostPath !== undefined ? { cacheHostPath: this.options.cacheHostPath } : {}),
          pendingTimeoutSeconds: Math.ceil(this.options.pendingTimeoutMs / 1000),
          deadlineGraceSeconds: this.deadlineGraceSeconds,
        },
      );
    } catch (error: unknown) {
      if (error instanceof PodSpecError) throw new RuntimeError('unsupported', error.message, { cause: error });
      throw error;
    }
    const podName = manifest.metadata?.name ?? podNameOf(spec.attemptId);
    if (spec.registryAuth) {
      // the pod pulls with the worker's imagePullSecrets, never with credentials the master sent
      options.note?.(`registry credentials stored in Wharf for ${spec.registryAuth.serverAddress} are not used by the kubernetes runtime; the pod pulls with this worker's image pull secrets`);
    }
    const created = await this.createPod(manifest);
    options.note?.(`created pod ${podName} in namespace ${this.options.namespace}`);
    const tracker = this.track(podName, created);
    const state: PodHandleState = { podName, outputDir: paths.output, tracker, stopRequested: false, outputsCollected: false };
    if (options.note) state.note = options.note;

    let started: Extract<PodState, { kind: 'running' | 'ended' }>;
    try {
      started = await this.untilStarted(tracker, podName, options);
    } catch (error: unknown) {
      tracker.close();
      await this.deletePod(podName, 0).catch((deleteError: unknown) =>
        this.options.logger.warn({ err: deleteError, pod: podName }, 'cannot delete the pod of a failed start'),
      );
      throw error;
    }
    if (spec.timeoutSeconds > 0) await this.tightenDeadline(tracker, podName, spec.timeoutSeconds);
    const handle: RuntimeHandle = {
      runtime: 'kubernetes',
      attemptId: spec.attemptId,
      taskId: spec.taskId,
      startedAtMs: started.startedAtMs,
      effective: effectiveOfPod(spec),
    };
    this.handles.set(handle, state);
    return handle;
  }

  async wait(handle: RuntimeHandle, signal?: AbortSignal): Promise<ExitStatus> {
    const state = this.stateOf(handle);
    let lastExit: number | undefined;
    const options = signal ? { signal } : {};
    return state.tracker.until<ExitStatus>((pod, gone) => {
      const podState = pod ? readPodState(pod) : undefined;
      if (podState?.kind === 'ended') {
        // the kubelet's OOM kill inside the task's memory limit names the limit, as on Docker
        if (podState.reason === 'OOMKilled' && podState.exitCode !== 0 && !state.stopRequested) {
          return { exitCode: podState.exitCode, reason: `out of memory${memoryLimitOf(pod)}` };
        }
        return { exitCode: podState.exitCode };
      }
      if (state.stopRequested && (gone || podState?.kind === 'failed')) {
        // deleted on our request: Kubernetes killed the task without reporting an exit code
        return { exitCode: lastExit ?? 137 };
      }
      if (podState?.kind === 'failed') throw new PodFailure(podState.message);
      if (gone) throw new PodFailure(`the pod ${state.podName} was deleted outside Wharf before the task ended`);
      return undefined;
    }, options);
  }

  async stop(handle: RuntimeHandle, graceSeconds: number): Promise<void> {
    const state = this.stateOf(handle);
    const grace = Math.max(0, Math.round(graceSeconds));
    state.stopRequested = true;
    await this.deletePod(state.podName, grace);
    void state.tracker.refresh();
    try {
      await state.tracker.until(
        (pod, gone) => (gone || (pod !== undefined && readPodState(pod).kind !== 'running') ? true : undefined),
        { timeoutMs: grace * 1000 + STOP_SLACK_MS },
      );
    } catch (error: unknown) {
      if (!(error instanceof PodWaitTimeout)) throw error;
      this.options.logger.warn({ pod: state.podName }, 'the pod was still running after its grace period; leaving it to Kubernetes');
    }
  }

  async *logs(handle: RuntimeHandle, options: LogOptions = {}): AsyncIterable<RuntimeLogEntry> {
    const state = this.stateOf(handle);
    const signal = options.signal;
    let after = options.after;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) return;
      const stream = new PassThrough();
      const logOptions: { follow: boolean; timestamps: boolean; sinceTime?: string } = { follow: true, timestamps: true };
      if (after !== undefined) {
        const since = sinceTimeOf(after);
        if (since !== undefined) logOptions.sinceTime = since;
      }
      let controller: AbortController | undefined;
      const onAbort = (): void => {
        controller?.abort();
        stream.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        try {
          controller = await new Log(this.options.kubeConfig).log(this.options.namespace, state.podName, TASK_CONTAINER, stream, logOptions);
        } catch (error: unknown) {
          if (signal?.aborted) return;
          if (this.taskFinished(state)) return;
          failures += 1;
          if (failures > 5) throw new Error(`cannot read the log of pod ${state.podName}: ${kubeErrorMessage(error)}`, { cause: error });
          await sleep(500 * failures);
          await state.tracker.refresh();
          continue;
        }
        const parser = new KubernetesLogLineParser();
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            for (const entry of parser.push(chunk)) {
              if (after !== undefined && entry.cursor !== undefined && !isLogCursorAfter(entry.cursor, after)) continue;
              if (entry.cursor !== undefined) after = entry.cursor;
              failures = 0;
              yield entry;
            }
          }
        } catch (error: unknown) {
          if (signal?.aborted) return;
          this.options.logger.debug({ err: error, pod: state.podName }, 'the log stream broke');
        }
        for (const entry of parser.end()) {
          if (after !== undefined && entry.cursor !== undefined && !isLogCursorAfter(entry.cursor, after)) continue;
          if (entry.cursor !== undefined) after = entry.cursor;
          yield entry;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        controller?.abort();
      }
      // the stream ended: the task ended, or the server closed a follow that still runs
      await state.tracker.refresh();
      if (this.taskFinished(state)) return;
      await sleep(200);
    }
  }

  async collectOutputs(handle: RuntimeHandle): Promise<string> {
    const state = this.stateOf(handle);
    if (state.outputsCollected) return state.outputDir;
    await mkdir(state.outputDir, { recursive: true });
    await state.tracker.refresh();
    const pod = state.tracker.pod;
    const sidecar = pod?.status?.containerStatuses?.find((c) => c.name === OUTPUTS_CONTAINER);
    if (state.tracker.isGone || !sidecar?.state?.running || pod?.metadata?.deletionTimestamp) {
      state.note?.(`the pod ${state.podName} is gone or stopping (cancel, timeout, eviction): its /output cannot be read, no outputs collected`);
      state.outputsCollected = true;
      return state.outputDir;
    }
    const result = await this.copyOutputs(state);
    state.outputsCollected = true;
    if (result.skipped.length > 0) state.note?.(`outputs not copied from the pod: ${result.skipped.join(', ')}`);
    return state.outputDir;
  }

  async recover(): Promise<RecoveredAttempt[]> {
    const list = await this.core.listNamespacedPod({
      namespace: this.options.namespace,
      labelSelector: `${LABEL_MANAGED_BY}=wharf,${LABEL_WORKER}=${this.workerLabel}`,
    });
    const found: RecoveredAttempt[] = [];
    for (const pod of list.items) {
      const podName = pod.metadata?.name;
      const annotations = pod.metadata?.annotations ?? {};
      const labels = pod.metadata?.labels ?? {};
      const attemptId = annotations[ANNOTATION_ATTEMPT_ID] ?? labels[LABEL_ATTEMPT];
      const taskId = annotations[ANNOTATION_TASK_ID] ?? labels[LABEL_TASK];
      const outputDir = annotations[ANNOTATION_OUTPUT_DIR];
      if (!podName || !attemptId || !taskId) continue;
      const podState = readPodState(pod);
      if (podState.kind === 'pending' || !outputDir) {
        // the worker stopped before the task ran (or the pod is not one it can finish): the attempt never ran here
        this.options.logger.info({ pod: podName, attemptId }, 'deleting a pod whose task never started');
        await this.deletePod(podName, 0);
        continue;
      }
      const startTime = pod.status?.startTime;
      const podStartedMs = startTime instanceof Date ? startTime.getTime() : Date.parse(String(startTime ?? ''));
      const handle: RuntimeHandle = {
        runtime: 'kubernetes',
        attemptId,
        taskId,
        startedAtMs:
          podState.kind === 'running' || podState.kind === 'ended' ? podState.startedAtMs : Number.isNaN(podStartedMs) ? Date.now() : podStartedMs,
      };
      this.handles.set(handle, {
        podName,
        outputDir,
        tracker: this.track(podName, pod),
        stopRequested: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
        outputsCollected: false,
      });
      const timeout = Number(annotations[ANNOTATION_TIMEOUT] ?? '0');
      found.push({ handle, running: podState.kind === 'running', timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 0 });
    }
    return found;
  }

  async cleanup(handle: RuntimeHandle): Promise<void> {
    const state = this.stateOf(handle);
    state.tracker.close();
    await this.deletePod(state.podName, 0);
  }

  // ------------------------------------------------------------------ helpers

  private stateOf(handle: RuntimeHandle): PodHandleState {
    const state = this.handles.get(handle);
    if (!state) throw new RuntimeError('unknown_handle', `attempt ${handle.attemptId} is not a pod of this runtime`);
    return state;
  }

  private track(name: string, initial: V1Pod | undefined): PodTracker {
    return new PodTracker({
      kubeConfig: this.options.kubeConfig,
      core: this.core,
      namespace: this.options.namespace,
      name,
      logger: this.options.logger,
      resyncMs: this.options.resyncMs ?? 10_000,
      ...(initial ? { initial } : {}),
    });
  }

  private taskFinished(state: PodHandleState): boolean {
    const pod = state.tracker.pod;
    if (state.tracker.isGone || !pod) return true;
    const kind = readPodState(pod).kind;
    return kind === 'ended' || kind === 'failed';
  }

  private async createPod(manifest: V1Pod): Promise<V1Pod> {
    const name = manifest.metadata?.name ?? '';
    try {
      return await this.core.createNamespacedPod({ namespace: this.options.namespace, body: manifest });
    } catch (error: unknown) {
      if (!(error instanceof ApiException && error.code === 409)) {
        throw new RuntimeError('create_failed', `cannot create the pod: ${kubeErrorMessage(error)}`, { cause: error });
      }
    }
    // a pod of the same attempt left by an earlier run of this worker: replace it
    this.options.logger.info({ pod: name }, 'replacing a pod left by an earlier run');
    await this.deletePod(name, 0);
    const tracker = this.track(name, undefined);
    try {
      await tracker.until((_pod, gone) => (gone ? true : undefined), { timeoutMs: REPLACE_WAIT_MS });
      return await this.core.createNamespacedPod({ namespace: this.options.namespace, body: manifest });
    } catch (error: unknown) {
      throw new RuntimeError('create_failed', `cannot create the pod: ${kubeErrorMessage(error)}`, { cause: error });
    } finally {
      tracker.close();
    }
  }

  /** Waits until the task container runs (or already ended); throws RuntimeError otherwise. */
  private async untilStarted(
    tracker: PodTracker,
    podName: string,
    options: StartOptions,
  ): Promise<Extract<PodState, { kind: 'running' | 'ended' }>> {
    let lastDetail = '';
    let lastPending: Extract<PodState, { kind: 'pending' }> | undefined;
    const seconds = Math.round(this.options.pendingTimeoutMs / 1000);
    const waitOptions: { signal?: AbortSignal; timeoutMs: number } = { timeoutMs: this.options.pendingTimeoutMs };
    if (options.signal) waitOptions.signal = options.signal;
    try {
      return await tracker.until<Extract<PodState, { kind: 'running' | 'ended' }>>((pod, gone) => {
        if (gone) throw new RuntimeError('start_failed', `the pod ${podName} was deleted before its task started`);
        if (!pod) return undefined;
        const state = readPodState(pod);
        if (state.kind === 'running' || state.kind === 'ended') return state;
        if (state.kind === 'failed') throw new RuntimeError('start_failed', state.message);
        if (state.fatal) throw new RuntimeError(state.fatal.code, state.fatal.message);
        lastPending = state;
        if (state.detail !== lastDetail) {
          lastDetail = state.detail;
          options.note?.(`pod ${podName}: ${state.detail}`);
        }
        return undefined;
      }, waitOptions);
    } catch (error: unknown) {
      if (error instanceof PodWaitTimeout) {
        throw new RuntimeError('start_failed', `the pod stayed pending for more than ${seconds} s: ${lastPending?.detail ?? 'no status from Kubernetes'}`);
      }
      if (options.signal?.aborted) throw new RuntimeError('cancelled', 'the attempt was cancelled before its pod started');
      throw error;
    }
  }

  /**
   * The deadline set at creation allows for the pending limit; now that the task runs, lower it
   * to the time the pod already took + the task's timeout + a grace. (Kubernetes lets a
   * deadline only go down.)
   */
  private async tightenDeadline(tracker: PodTracker, podName: string, timeoutSeconds: number): Promise<void> {
    const pod = tracker.pod;
    const startTime = pod?.status?.startTime;
    const podStartedMs = startTime instanceof Date ? startTime.getTime() : Date.parse(String(startTime ?? ''));
    const current = pod?.spec?.activeDeadlineSeconds;
    if (Number.isNaN(podStartedMs) || current === undefined) return;
    const spent = Math.max(0, Math.ceil((Date.now() - podStartedMs) / 1000));
    const deadline = spent + timeoutSeconds + this.deadlineGraceSeconds;
    if (deadline >= current) return;
    try {
      await this.core.patchNamespacedPod(
        { name: podName, namespace: this.options.namespace, body: { spec: { activeDeadlineSeconds: deadline } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error: unknown) {
      this.options.logger.warn({ err: error, pod: podName }, 'cannot lower the pod deadline; the worker still enforces the timeout');
    }
  }

  private async deletePod(name: string, graceSeconds: number): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name, namespace: this.options.namespace, gracePeriodSeconds: graceSeconds });
    } catch (error: unknown) {
      if (error instanceof ApiException && error.code === 404) return;
      throw new Error(`cannot delete the pod ${name}: ${kubeErrorMessage(error)}`, { cause: error });
    }
  }

  private async copyOutputs(state: PodHandleState): Promise<{ files: number; skipped: string[] }> {
    const stdout = new PassThrough();
    const stderr: Buffer[] = [];
    const stderrStream = new PassThrough();
    stderrStream.on('data', (chunk: Buffer) => stderr.push(chunk));
    let resolveStatus: (status: V1Status) => void = () => {};
    const statusReceived = new Promise<V1Status>((resolve) => {
      resolveStatus = resolve;
    });
    const extraction = extractTar(stdout as AsyncIterable<Buffer>, state.outputDir);
    extraction.catch(() => undefined); // observed below
    let socket;
    try {
      socket = await new Exec(this.options.kubeConfig).exec(
        this.options.namespace,
        state.podName,
        OUTPUTS_CONTAINER,
        ['tar', 'cf', '-', '-C', '/output', '.'],
        stdout,
        stderrStream,
        null,
        false,
        (status) => resolveStatus(status),
      );
    } catch (error: unknown) {
      stdout.destroy();
      throw new Error(`cannot read the outputs of pod ${state.podName} (exec): ${kubeErrorMessage(error)}`, { cause: error });
    }
    const closed = new Promise<undefined>((resolve) => socket.once('close', () => resolve(undefined)));
    const status = await Promise.race([statusReceived, closed]);
    if (!stdout.writableEnded) stdout.end();
    let extracted;
    try {
      extracted = await extraction;
    } catch (error: unknown) {
      throw new Error(`cannot unpack the outputs of pod ${state.podName}: ${errorMessage(error)}`, { cause: error });
    }
    if (status === undefined) throw new Error(`the exec into pod ${state.podName} closed before tar finished`);
    if (status.status !== 'Success') {
      const detail = Buffer.concat(stderr).toString('utf8').trim() || status.message || 'tar failed';
      throw new Error(`cannot read the outputs of pod ${state.podName}: ${detail}`);
    }
    return extracted;
  }
}

/** The message of a Kubernetes API error (the Status body's message when there is one). */
export function kubeErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    let body: unknown = error.body;
    if (typeof body === 'string') {
      const text = body.trim();
      try {
        body = JSON.parse(text);
      } catch {
        return text === '' ? `HTTP ${error.code}` : `${text} (HTTP ${error.code})`;
      }
    }
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
      return `${body.message} (HTTP ${error.code})`;
    }
    return `HTTP ${error.code}`;
  }
  return errorMessage(error);
}

/** `sinceTime` for the API: the cursor's whole second (entries up to the cursor are skipped after). */
function sinceTimeOf(cursor: string): string | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})/.exec(cursor);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** " (limit 32Mi)" from the task container's memory limit, or "" when it has none. */
function memoryLimitOf(pod: V1Pod | undefined): string {
  const limit = pod?.spec?.containers.find((c) => c.name === TASK_CONTAINER)?.resources?.limits?.['memory'];
  const bytes = limit === undefined ? Number.NaN : Number(limit);
  return Number.isFinite(bytes) && bytes > 0 ? ` (limit ${formatBytes(bytes)})` : '';
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RuntimeError('cancelled', 'the attempt was cancelled before its pod was created');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
