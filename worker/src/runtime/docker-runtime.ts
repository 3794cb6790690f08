// Runs a task as a Docker container (dockerode). The image is pulled by the task's pull policy
// (IfNotPresent by default; Always; Never), with the owner's registry credentials when the
// master sent some; the container is built by buildContainerSpec (docker-container-spec.ts: its
// limits, capabilities, user, network and log bounds); it has no TTY, so its log is Docker's
// multiplexed stream, read with timestamps so a restarted worker can resume right after the last
// entry it shipped, and read once more after the exit, because an engine may end the follow
// stream early (docker-log-reader.ts). A task with a disk limit is watched (disk-watcher.ts) and
// killed past it. When a task ends, the engine's own record says whether it ran out of memory or
// was killed from outside, and the exit status says so. Containers carry wharf.* labels;
// recover() finds this worker's containers by them.
import { chmod, mkdir } from 'node:fs/promises';
import { formatBytes } from '@wharf/proto';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { buildContainerSpec, containerName, LABEL_ATTEMPT, LABEL_DISK, LABEL_GROUP, LABEL_STARTED_AT, LABEL_TASK, LABEL_TIMEOUT, LABEL_WORKER, type NetworkChoice } from './docker-container-spec.js';
import { readContainerLog } from './docker-log-reader.js';
import { directoryBytes, DiskWatcher } from './disk-watcher.js';
import { RuntimeError, errorMessage, statusCodeOf } from './runtime-error.js';
import type {
  AttemptPaths,
  AttemptSpec,
  ExitStatus,
  LogOptions,
  RecoveredAttempt,
  RegistryCredentials,
  RuntimeCapabilities,
  RuntimeHandle,
  RuntimeLogEntry,
  StartOptions,
  TaskRuntime,
} from './task-runtime.js';

/** The worker's tasks network when --task-network names none. */
export const DEFAULT_TASK_NETWORK = 'wharf-tasks';
const ICC_OPTION = 'com.docker.network.bridge.enable_icc';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  workerId: string;
  pidsLimit: number;
  logger: Logger;
  /** A pull that reports nothing for this long is abandoned (default 120 s). */
  pullStallTimeoutMs?: number;
  /** The bridge every task joins unless it asks otherwise (default wharf-tasks); made without inter-container traffic. */
  taskNetwork?: string | undefined;
  /** Tasks that name no user run as this one (--default-user). */
  defaultUser?: string | undefined;
  /** How often a disk limit is checked (default every 50 to 500 ms, faster near the limit). */
  diskCheck?: { minIntervalMs: number; maxIntervalMs: number } | undefined;
}

interface ContainerState {
  container: Dockerode.Container;
  outputDir: string;
  /** bytes (0 = none) */
  memoryLimit: number;
  /** bytes (0 = not watched) */
  diskLimit: number;
  /** Wharf stopped or killed it (cancel, timeout, a limit), so an exit by a signal is no surprise */
  stoppedByWharf: boolean;
  /** why the runtime killed it (a limit it passed) */
  limitReason?: string | undefined;
  watcher?: DiskWatcher | undefined;
  /** the run network it holds a share of */
  groupNetwork?: string | undefined;
}

const PROGRESS_NOTE_INTERVAL_MS = 1000;

export class DockerRuntime implements TaskRuntime {
  readonly name = 'docker' as const;
  readonly capabilities: RuntimeCapabilities = { stagesInputsItself: false, mergesStdStreams: false };
  private readonly handles = new WeakMap<RuntimeHandle, ContainerState>();
  private readonly taskNetwork: string;
  private tasksNetworkReady: Promise<void> | undefined;
  /** run networks on this engine and how many of this worker's containers use each */
  private readonly groupNetworks = new Map<string, number>();
  /** network changes one at a time (a run network is not removed while another task joins it) */
  private networkLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DockerRuntimeOptions) {
    this.taskNetwork = options.taskNetwork ?? DEFAULT_TASK_NETWORK;
  }

  /**
   * Makes sure the tasks network exists and keeps tasks apart (inter-container traffic off);
   * creates it when missing. A network of that name that lets containers talk is refused.
   */
  prepare(): Promise<void> {
    this.tasksNetworkReady ??= this.prepareTasksNetwork().catch((error: unknown) => {
      this.tasksNetworkReady = undefined;
      throw error;
    });
    return this.tasksNetworkReady;
  }

  async start(spec: AttemptSpec, paths: AttemptPaths, options: StartOptions = {}): Promise<RuntimeHandle> {
    if (spec.image.trim() === '') throw new RuntimeError('unsupported', 'the task names no image');
    const startedAtMs = Date.now();
    // the container's whole setup, refused here when a setting is unknown (before any pull)
    const built = buildContainerSpec(
      spec,
      paths,
      { workerId: this.options.workerId, pidsLimit: this.options.pidsLimit, taskNetwork: this.taskNetwork, defaultUser: this.options.defaultUser },
      { inputDir: options.inputDir, startedAtMs },
    );
    await this.ensureImage(spec, options);
    throwIfAborted(options.signal);
    const groupNetwork = await this.joinNetwork(built.network);
    let container: Dockerode.Container;
    try {
      await mkdir(paths.output, { recursive: true });
      await chmod(paths.output, 0o777); // writable by non-root container users
      container = await this.create(built.create);
    } catch (error: unknown) {
      await this.leaveNetwork(groupNetwork);
      if (error instanceof RuntimeError) throw error;
      throw new RuntimeError('create_failed', `cannot prepare the container: ${errorMessage(error)}`, { cause: error });
    }
    const state: ContainerState = {
      container,
      outputDir: paths.output,
      memoryLimit: spec.resources.memory,
      diskLimit: spec.resources.disk,
      stoppedByWharf: false,
      groupNetwork,
    };
    try {
      throwIfAborted(options.signal);
      await container.start();
      const info = await container.inspect();
      const started = Date.parse(info.State.StartedAt);
      const handle: RuntimeHandle = {
        runtime: 'docker',
        attemptId: spec.attemptId,
        taskId: spec.taskId,
        startedAtMs: Number.isNaN(started) ? Date.now() : started,
        effective: built.effective,
      };
      this.handles.set(handle, state);
      this.watchDisk(handle, state);
      return handle;
    } catch (error: unknown) {
      await removeContainer(container);
      await this.leaveNetwork(groupNetwork);
      if (error instanceof RuntimeError) throw error;
      throw new RuntimeError('start_failed', `cannot start the container: ${errorMessage(error)}`, { cause: error });
    }
  }

  async wait(handle: RuntimeHandle, signal?: AbortSignal): Promise<ExitStatus> {
    const state = this.stateOf(handle);
    const result = (await state.container.wait(signal ? { abortSignal: signal } : {})) as { StatusCode?: number };
    const exitCode = result.StatusCode ?? -1;
    state.watcher?.stop();
    return { exitCode, ...(await this.explainExit(state, exitCode)) };
  }

  /**
   * Why the task ended, when the engine knows better than the exit code: a disk limit passed
   * (measured once more now: a task may stop just past it between two looks), the kernel's OOM
   * killer inside its memory limit (State.OOMKilled), or a SIGKILL Wharf did not send.
   */
  private async explainExit(state: ContainerState, exitCode: number): Promise<Pick<ExitStatus, 'reason' | 'note'>> {
    if (state.limitReason) return { reason: state.limitReason };
    if (state.diskLimit > 0) {
      const used = await this.writtenBytes(state).catch(() => undefined);
      if (used !== undefined && used > state.diskLimit) return { reason: diskReason(state.diskLimit, used) };
    }
    let info: Dockerode.ContainerInspectInfo | undefined;
    try {
      info = await state.container.inspect();
    } catch (error: unknown) {
      this.options.logger.debug({ err: error }, 'cannot inspect an ended container');
      return {};
    }
    const limit = state.memoryLimit > 0 ? ` (limit ${formatBytes(state.memoryLimit)})` : '';
    if (info.State.OOMKilled) {
      if (exitCode !== 0) return { reason: `out of memory${limit}` };
      return { note: `a process of the task ran out of memory${limit} and was killed; the task itself exited 0` };
    }
    if (exitCode === 137 && !state.stoppedByWharf) {
      return { reason: 'killed by SIGKILL, not by Wharf and not for lack of memory (a kill from outside the task, or by the task itself)' };
    }
    return {};
  }

  async stop(handle: RuntimeHandle, graceSeconds: number): Promise<void> {
    const state = this.stateOf(handle);
    const { container } = state;
    state.stoppedByWharf = true;
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
      const disk = Number(labels[LABEL_DISK] ?? '0');
      const networkMode = info.HostConfig.NetworkMode ?? '';
      const groupNetwork = networkMode.startsWith('wharf-run-') ? networkMode : undefined;
      if (groupNetwork) this.groupNetworks.set(groupNetwork, (this.groupNetworks.get(groupNetwork) ?? 0) + 1);
      const state: ContainerState = {
        container,
        outputDir: mount?.Source ?? '',
        memoryLimit: info.HostConfig.Memory ?? 0,
        diskLimit: Number.isFinite(disk) && disk > 0 ? disk : 0,
        stoppedByWharf: false,
        groupNetwork,
      };
      this.handles.set(handle, state);
      const running = info.State.Running || info.State.Restarting || info.State.Paused;
      if (running) this.watchDisk(handle, state);
      const timeout = Number(labels[LABEL_TIMEOUT] ?? '0');
      found.push({
        handle,
        running,
        timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 0,
      });
    }
    return found;
  }

  async cleanup(handle: RuntimeHandle): Promise<void> {
    const state = this.stateOf(handle);
    state.watcher?.stop();
    await removeContainer(state.container);
    const group = state.groupNetwork;
    state.groupNetwork = undefined;
    await this.leaveNetwork(group);
  }

  // ---------------------------------------------------------------- disk limit

  /** Bytes the task has written: its /output folder plus the container's writable layer. */
  private async writtenBytes(state: ContainerState): Promise<number> {
    const [output, info] = await Promise.all([
      directoryBytes(state.outputDir),
      // GET /containers/{id}/json?size=1: SizeRw is what the container wrote to its own layer
      // (dockerode passes the option through; its types do not list it)
      state.container.inspect({ size: true } as Dockerode.ContainerInspectOptions) as Promise<Dockerode.ContainerInspectInfo & { SizeRw?: number }>,
    ]);
    return output + (info.SizeRw ?? 0);
  }

  private watchDisk(handle: RuntimeHandle, state: ContainerState): void {
    if (state.diskLimit <= 0) return;
    const logger = this.options.logger.child({ attemptId: handle.attemptId, taskId: handle.taskId });
    const kill = (reason: string): void => {
      state.limitReason = reason;
      state.stoppedByWharf = true;
      logger.info({ reason }, 'stopping the task: it passed its disk limit');
      state.container.kill({ signal: 'SIGKILL' }).catch((error: unknown) => {
        if (statusCodeOf(error) !== 409 && statusCodeOf(error) !== 404) logger.warn({ err: error }, 'could not kill the task');
      });
    };
    state.watcher = new DiskWatcher({
      limit: state.diskLimit,
      measure: () => this.writtenBytes(state),
      onExceeded: (used) => kill(diskReason(state.diskLimit, used)),
      onError: (error) => logger.debug({ err: error }, 'cannot measure the task\'s writable space'),
      onUnmeasurable: (error) => kill(`disk limit ${formatBytes(state.diskLimit)} cannot be checked: ${errorMessage(error)}`),
      ...(this.options.diskCheck ?? {}),
    });
    state.watcher.start();
  }

  // ---------------------------------------------------------------- networks

  private async prepareTasksNetwork(): Promise<void> {
    const name = this.taskNetwork;
    const network = this.options.docker.getNetwork(name);
    try {
      checkTasksNetwork(name, await network.inspect());
      return;
    } catch (error: unknown) {
      if (statusCodeOf(error) !== 404) throw error;
    }
    try {
      await this.options.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Options: { [ICC_OPTION]: 'false' },
        Labels: { 'wharf.managed': 'tasks' },
      });
      this.options.logger.info({ network: name }, 'created the tasks network (a bridge without traffic between its containers)');
    } catch (error: unknown) {
      // another worker on this engine made it meanwhile: check theirs
      if (statusCodeOf(error) !== 409) throw new RuntimeError('create_failed', `cannot create the tasks network ${name}: ${errorMessage(error)}`, { cause: error });
      checkTasksNetwork(name, await network.inspect());
    }
  }

  /** Joins the network the container will use; answers the run network it now holds a share of. */
  private async joinNetwork(choice: NetworkChoice): Promise<string | undefined> {
    if (choice.kind === 'builtin') return undefined;
    if (choice.kind === 'tasks') {
      await this.prepare();
      return undefined;
    }
    await this.withNetworkLock(async () => {
      const users = this.groupNetworks.get(choice.name) ?? 0;
      if (users === 0) await this.ensureGroupNetwork(choice.name, choice.group);
      this.groupNetworks.set(choice.name, users + 1);
    });
    return choice.name;
  }

  /** Gives back a share of a run network; the last of this worker's tasks on it removes it. */
  private async leaveNetwork(name: string | undefined): Promise<void> {
    if (name === undefined) return;
    await this.withNetworkLock(async () => {
      const users = (this.groupNetworks.get(name) ?? 1) - 1;
      if (users > 0) {
        this.groupNetworks.set(name, users);
        return;
      }
      this.groupNetworks.delete(name);
      try {
        await this.options.docker.getNetwork(name).remove();
      } catch (error: unknown) {
        // 404: gone already; 403/409: another worker's container still uses it (same engine)
        if (![403, 404, 409].includes(statusCodeOf(error) ?? 0)) this.options.logger.warn({ err: error, network: name }, 'could not remove a run network');
      }
    });
  }

  private async ensureGroupNetwork(name: string, group: string): Promise<void> {
    try {
      await this.options.docker.getNetwork(name).inspect();
      return;
    } catch (error: unknown) {
      if (statusCodeOf(error) !== 404) throw new RuntimeError('create_failed', `cannot look up network ${name}: ${errorMessage(error)}`, { cause: error });
    }
    try {
      await this.options.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { 'wharf.managed': 'run', [LABEL_GROUP]: group } });
    } catch (error: unknown) {
      if (statusCodeOf(error) !== 409) throw new RuntimeError('create_failed', `cannot create the run network ${name}: ${errorMessage(error)}`, { cause: error });
    }
  }

  private withNetworkLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.networkLock.then(work, work);
    this.networkLock = run.catch(() => undefined);
    return run;
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

  /** The image by the task's pull policy: IfNotPresent (pull when missing), Always, Never. */
  private async ensureImage(spec: AttemptSpec, options: StartOptions): Promise<void> {
    const { image } = spec;
    const policy = spec.isolation.pullPolicy;
    if (policy !== 'IfNotPresent' && policy !== 'Always' && policy !== 'Never') {
      throw new RuntimeError('unsupported', `pullPolicy "${policy}" is not known to this worker (known: IfNotPresent, Always, Never)`);
    }
    if (policy !== 'Always') {
      try {
        await this.options.docker.getImage(image).inspect();
        return;
      } catch (error: unknown) {
        if (statusCodeOf(error) !== 404) {
          throw new RuntimeError('image_unavailable', `cannot look up image "${image}": ${errorMessage(error)}`, { cause: error });
        }
      }
      if (policy === 'Never') throw new RuntimeError('image_unavailable', `image "${image}" is not on this worker and the task's pullPolicy is Never`);
    }
    const why = policy === 'Always' ? 'pullPolicy Always' : 'not found locally';
    options.onEvent?.('pulling', `pulling image ${image}`);
    options.note?.(`pulling image ${image} (${why}${spec.registryAuth ? `, with the stored credentials for ${spec.registryAuth.serverAddress}` : ''})`);
    try {
      await this.pull(image, options, spec.registryAuth);
    } catch (error: unknown) {
      if (error instanceof RuntimeError && error.code === 'cancelled') throw error;
      const message = policy === 'Always' ? `pull of image "${image}" failed (pullPolicy Always)` : `image "${image}" not found locally and pull failed`;
      throw new RuntimeError('image_unavailable', `${message}: ${errorMessage(error)}`, { cause: error });
    }
    options.onEvent?.('pulled', `pulled image ${image}`);
    options.note?.(`pulled image ${image}`);
  }

  private async pull(image: string, options: StartOptions, auth: RegistryCredentials | undefined): Promise<void> {
    const stallMs = this.options.pullStallTimeoutMs ?? 120_000;
    // the credentials go to the engine in the X-Registry-Auth header of this one request
    const pullOptions = auth ? { authconfig: engineAuth(auth) } : {};
    const stream = (await this.options.docker.pull(withDefaultTag(image), pullOptions)) as NodeJS.ReadableStream & {
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

/** The engine's authconfig for one registry (Docker Hub by its classic address). */
function engineAuth(auth: RegistryCredentials): { username: string; password: string; serveraddress: string } {
  const hub = ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(auth.serverAddress);
  return { username: auth.username, password: auth.password, serveraddress: hub ? 'https://index.docker.io/v1/' : auth.serverAddress };
}

function diskReason(limit: number, used: number): string {
  return `disk limit ${formatBytes(limit)} exceeded (wrote ${formatBytes(used)})`;
}

/** The tasks network must keep its containers apart; one that does not is refused, not used. */
function checkTasksNetwork(name: string, info: { Driver?: string; Options?: Record<string, string> | null }): void {
  if (info.Driver !== 'bridge' || info.Options?.[ICC_OPTION] !== 'false') {
    throw new RuntimeError(
      'create_failed',
      `the Docker network ${name} exists but lets its containers reach each other (driver ${info.Driver ?? '?'}, ${ICC_OPTION}=${info.Options?.[ICC_OPTION] ?? 'unset'}); ` +
        `remove it (docker network rm ${name}) so the worker creates it with inter-container traffic off, or name another with --task-network`,
    );
  }
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
