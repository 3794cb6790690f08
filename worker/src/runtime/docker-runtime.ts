// Runs a task as a Docker container (dockerode). The image is pulled only when it is not on
// the engine; the container has no TTY, so its log is Docker's multiplexed stream, read with
// timestamps so a restarted worker can resume right after the last entry it shipped, and read
// once more after the exit, because an engine may end the follow stream early
// (docker-log-reader.ts).
// Containers carry wharf.* labels; recover() finds this worker's containers by them.
import { chmod, mkdir } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { readContainerLog } from './docker-log-reader.js';
import { RuntimeError, errorMessage, statusCodeOf } from './runtime-error.js';
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

export interface DockerRuntimeOptions {
  docker: Dockerode;
  workerId: string;
  pidsLimit: number;
  logger: Logger;
  /** A pull that reports nothing for this long is abandoned (default 120 s). */
  pullStallTimeoutMs?: number;
}

interface ContainerState {
  container: Dockerode.Container;
  outputDir: string;
}

const LABEL_TASK = 'wharf.task';
const LABEL_ATTEMPT = 'wharf.attempt';
const LABEL_WORKER = 'wharf.worker';
const LABEL_TIMEOUT = 'wharf.timeout';
const LABEL_STARTED_AT = 'wharf.started-at';

const PROGRESS_NOTE_INTERVAL_MS = 1000;

export class DockerRuntime implements TaskRuntime {
  readonly name = 'docker' as const;
  readonly capabilities: RuntimeCapabilities = { stagesInputsItself: false, mergesStdStreams: false };
  private readonly handles = new WeakMap<RuntimeHandle, ContainerState>();

  constructor(private readonly options: DockerRuntimeOptions) {}

  async start(spec: AttemptSpec, paths: AttemptPaths, options: StartOptions = {}): Promise<RuntimeHandle> {
    if (spec.image.trim() === '') throw new RuntimeError('unsupported', 'the task names no image');
    await this.ensureImage(spec.image, options);
    throwIfAborted(options.signal);

    await mkdir(paths.output, { recursive: true });
    await chmod(paths.output, 0o777); // writable by non-root container users

    const { gpu, cpu, memory } = spec.resources;
    const hostConfig: Dockerode.HostConfig = {
      PidsLimit: this.options.pidsLimit,
      SecurityOpt: ['no-new-privileges'],
      // DAG inputs, staged by the worker beforehand, read-only
      Binds: [`${paths.output}:/output`, ...(options.inputDir ? [`${options.inputDir}:/input:ro`] : [])],
    };
    if (cpu > 0) hostConfig.NanoCpus = Math.round(cpu * 1e9);
    if (memory > 0) hostConfig.Memory = memory;
    if (gpu > 0) hostConfig.DeviceRequests = [{ Driver: 'nvidia', Count: gpu, Capabilities: [['gpu']] }];

    const env: Record<string, string> = {
      WHARF_TASK_ID: spec.taskId,
      WHARF_ATTEMPT_ID: spec.attemptId,
      WHARF_OUTPUT_DIR: '/output',
      ...(options.inputDir ? { WHARF_INPUT_DIR: '/input' } : {}),
      ...spec.env,
    };
    const createOptions: Dockerode.ContainerCreateOptions = {
      name: containerName(spec.attemptId),
      Image: spec.image,
      Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      Tty: false,
      AttachStdin: false,
      OpenStdin: false,
      Labels: {
        [LABEL_TASK]: spec.taskId,
        [LABEL_ATTEMPT]: spec.attemptId,
        [LABEL_WORKER]: this.options.workerId,
        [LABEL_TIMEOUT]: String(spec.timeoutSeconds),
        [LABEL_STARTED_AT]: String(Date.now()),
      },
      HostConfig: hostConfig,
    };
    if (spec.command.length > 0) createOptions.Cmd = spec.command;

    const container = await this.create(createOptions);
    try {
      throwIfAborted(options.signal);
      await container.start();
      const info = await container.inspect();
      const startedAtMs = Date.parse(info.State.StartedAt);
      const handle: RuntimeHandle = {
        runtime: 'docker',
        attemptId: spec.attemptId,
        taskId: spec.taskId,
        startedAtMs: Number.isNaN(startedAtMs) ? Date.now() : startedAtMs,
      };
      this.handles.set(handle, { container, outputDir: paths.output });
      return handle;
    } catch (error: unknown) {
      await removeContainer(container);
      if (error instanceof RuntimeError) throw error;
      throw new RuntimeError('start_failed', `cannot start the container: ${errorMessage(error)}`, { cause: error });
    }
  }

  async wait(handle: RuntimeHandle, signal?: AbortSignal): Promise<ExitStatus> {
    const { container } = this.stateOf(handle);
    const result = (await container.wait(signal ? { abortSignal: signal } : {})) as { StatusCode?: number };
    return { exitCode: result.StatusCode ?? -1 };
  }

  async stop(handle: RuntimeHandle, graceSeconds: number): Promise<void> {
    const { container } = this.stateOf(handle);
    try {
      await container.stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (error: unknown) {
      const status = statusCodeOf(error);
      if (status !== 304 && status !== 404) throw error; // 304: already stopped
    }
  }

  /** The container's log; read again after its exit, so no line is lost (docker-log-reader.ts). */
  async *logs(handle: RuntimeHandle, options: LogOptions = {}): AsyncIterable<RuntimeLogEntry> {
    const { container } = this.stateOf(handle);
    yield* readContainerLog(container, { after: options.after, signal: options.signal });
  }

  async collectOutputs(handle: RuntimeHandle): Promise<string> {
    return this.stateOf(handle).outputDir;
  }

  async recover(): Promise<RecoveredAttempt[]> {
    const summaries = await this.options.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_WORKER}=${this.options.workerId}`] },
    });
    const found: RecoveredAttempt[] = [];
    for (const summary of summaries) {
      const labels = summary.Labels;
      const attemptId = labels[LABEL_ATTEMPT];
      const taskId = labels[LABEL_TASK];
      const container = this.options.docker.getContainer(summary.Id);
      if (!attemptId || !taskId) continue;
      const info = await container.inspect();
      if (info.State.Status === 'created') {
        // the worker stopped between create and start: the task never ran
        await removeContainer(container);
        continue;
      }
      const mount = info.Mounts.find((m) => m.Destination === '/output');
      const startedAtMs = Date.parse(info.State.StartedAt);
      const labelStartedAt = Number(labels[LABEL_STARTED_AT]);
      const handle: RuntimeHandle = {
        runtime: 'docker',
        attemptId,
        taskId,
        startedAtMs: Number.isNaN(startedAtMs) || startedAtMs <= 0 ? labelStartedAt || Date.now() : startedAtMs,
      };
      this.handles.set(handle, { container, outputDir: mount?.Source ?? '' });
      const timeout = Number(labels[LABEL_TIMEOUT] ?? '0');
      found.push({
        handle,
        running: info.State.Running || info.State.Restarting || info.State.Paused,
        timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 0,
      });
    }
    return found;
  }

  async cleanup(handle: RuntimeHandle): Promise<void> {
    await removeContainer(this.stateOf(handle).container);
  }

  private stateOf(handle: RuntimeHandle): ContainerState {
    const state = this.handles.get(handle);
    if (!state) throw new RuntimeError('unknown_handle', `attempt ${handle.attemptId} is not a container of this runtime`);
    return state;
  }

  private async create(options: Dockerode.ContainerCreateOptions): Promise<Dockerode.Container> {
    try {
      return await this.options.docker.createContainer(options);
    } catch (error: unknown) {
      if (statusCodeOf(error) === 409 && options.name) {
        // a container of the same attempt left by an earlier run of this worker
        await removeContainer(this.options.docker.getContainer(options.name));
        try {
          return await this.options.docker.createContainer(options);
        } catch (retryError: unknown) {
          error = retryError;
        }
      }
      throw new RuntimeError('create_failed', `cannot create the container: ${errorMessage(error)}`, { cause: error });
    }
  }

  private async ensureImage(image: string, options: StartOptions): Promise<void> {
    try {
      await this.options.docker.getImage(image).inspect();
      return;
    } catch (error: unknown) {
      if (statusCodeOf(error) !== 404) {
        throw new RuntimeError('image_unavailable', `cannot look up image "${image}": ${errorMessage(error)}`, { cause: error });
      }
    }
    options.onEvent?.('pulling', `pulling image ${image}`);
    options.note?.(`image ${image} not found locally; pulling it`);
    try {
      await this.pull(image, options);
    } catch (error: unknown) {
      if (error instanceof RuntimeError && error.code === 'cancelled') throw error;
      throw new RuntimeError('image_unavailable', `image "${image}" not found locally and pull failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    options.onEvent?.('pulled', `pulled image ${image}`);
    options.note?.(`pulled image ${image}`);
  }

  private async pull(image: string, options: StartOptions): Promise<void> {
    const stallMs = this.options.pullStallTimeoutMs ?? 120_000;
    const stream = (await this.options.docker.pull(withDefaultTag(image))) as NodeJS.ReadableStream & {
      destroy?: (error?: Error) => void;
    };
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      let lastNoteAt = 0;
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(stallTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) {
          stream.destroy?.();
          reject(error);
        } else {
          resolve();
        }
      };
      const armStallTimer = (): NodeJS.Timeout =>
        setTimeout(() => finish(new Error(`no progress for ${Math.round(stallMs / 1000)} s`)), stallMs);
      let stallTimer = armStallTimer();
      const onAbort = (): void => finish(new RuntimeError('cancelled', 'the attempt was cancelled while its image was pulled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (chunk: Buffer) => {
        clearTimeout(stallTimer);
        stallTimer = armStallTimer();
        buffered += chunk.toString('utf8');
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (line === '') continue;
          const progress = parsePullLine(line);
          if (progress.error !== undefined) {
            finish(new Error(progress.error));
            return;
          }
          const now = Date.now();
          if (progress.status !== undefined && now - lastNoteAt >= PROGRESS_NOTE_INTERVAL_MS) {
            lastNoteAt = now;
            options.note?.(`pull: ${progress.status}`);
            options.onEvent?.('pull_progress', progress.status);
          }
        }
      });
      stream.on('end', () => finish());
      stream.on('error', (error: Error) => finish(error));
    });
  }
}

function parsePullLine(line: string): { status?: string; error?: string } {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const out: { status?: string; error?: string } = {};
    if ('error' in parsed && typeof parsed.error === 'string') out.error = parsed.error;
    if ('status' in parsed && typeof parsed.status === 'string') {
      const id = 'id' in parsed && typeof parsed.id === 'string' ? `${parsed.id}: ` : '';
      const detail = 'progress' in parsed && typeof parsed.progress === 'string' ? ` ${parsed.progress}` : '';
      out.status = `${id}${parsed.status}${detail}`;
    }
    return out;
  } catch {
    return { status: line };
  }
}

/** Docker pulls every tag of a repository when none is named; name "latest" explicitly. */
function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? image : `${image}:latest`;
}

function containerName(attemptId: string): string {
  return `wharf-${attemptId}`;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RuntimeError('cancelled', 'the attempt was cancelled before its container started');
}

async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error: unknown) {
    const status = statusCodeOf(error);
    if (status !== 404 && status !== 409) throw error; // 409: removal already in progress
  }
}
