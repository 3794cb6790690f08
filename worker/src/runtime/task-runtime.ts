// The TaskRuntime contract: what the worker needs from anything that can run a task (a Docker
// container, a host process, a Kubernetes pod). The docker and exec runtimes pass one
// conformance suite (worker/test/runtime-conformance.test.ts). Handles are opaque to the caller;
// each runtime keeps its own state for the handles it made. A runtime starts an AttemptSpec (the
// worker's own shape, built from the master's assignment in session/assignment.ts), and says
// what it can do in `capabilities`: callers ask those, never the runtime's name.
import type { RuntimeName } from '../config/worker-config.js';

/** What a runtime needs to start one attempt. */
export interface AttemptSpec {
  taskId: string;
  attemptId: string;
  attemptNumber: number;
  name: string;
  /** empty for a runtime that needs none (exec) */
  image: string;
  /** argv; empty = the image's own command */
  command: string[];
  env: Record<string, string>;
  /** the runtime the task asks for */
  runtime: string;
  resources: AttemptResources;
  /** 0 = none */
  timeoutSeconds: number;
  userId: string;
  /** how the task is isolated; each runtime applies what it can and reports it (RuntimeHandle.effective) */
  isolation: AttemptIsolation;
  /** the task owner's credentials for the image's registry, when the master sent some; never logged */
  registryAuth?: RegistryCredentials | undefined;
  /**
   * Gang members: the port the member listens on for its peers (TaskSpec.gang_port). The Docker
   * runtime publishes it on the worker's host (host port = container port); an exec task binds
   * it itself. Its env carries WHARF_GANG_* and MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK.
   */
  gangPort?: number | undefined;
}

/** The task's container settings (wharf.proto TaskSpec fields 20-25), with the defaults filled in. */
export interface AttemptIsolation {
  /** "default" (the worker's tasks network), "none", "host" or "run" (the network of networkGroup) */
  network: string;
  /** network "run": the DAG run whose network the task joins */
  networkGroup: string;
  /** "uid[:gid]" or a name; undefined: the worker's --default-user, else the image's */
  user: string | undefined;
  readOnlyRootFilesystem: boolean;
  /** capabilities added to the minimal set, without CAP_ */
  capAdd: string[];
  /** "IfNotPresent", "Always" or "Never" */
  pullPolicy: string;
}

/**
 * The Linux capabilities every task keeps (Docker's defaults without NET_RAW, MKNOD, SYS_CHROOT,
 * SETFCAP, SETPCAP and AUDIT_WRITE); a task gets these plus its capAdd, nothing else.
 */
export const MINIMAL_CAPABILITIES: readonly string[] = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'];

export const DEFAULT_ISOLATION: AttemptIsolation = {
  network: 'default',
  networkGroup: '',
  user: undefined,
  readOnlyRootFilesystem: false,
  capAdd: [],
  pullPolicy: 'IfNotPresent',
};

/** Credentials for one registry. */
export interface RegistryCredentials {
  serverAddress: string;
  username: string;
  password: string;
}

/** What a runtime applied to a task (reported to the master with `started`). */
export interface EffectiveSettings {
  cpu: number;
  memory: number;
  disk: number;
  pidsLimit: number;
  user: string;
  readOnlyRootFilesystem: boolean;
  noNewPrivileges: boolean;
  capabilities: string[];
  network: string;
  pullPolicy: string;
}

/** What the attempt reserved on this worker (0 = not limited). */
export interface AttemptResources {
  /** cores */
  cpu: number;
  /** bytes */
  memory: number;
  gpu: number;
  /**
   * The GPU device ids the master assigned (`gpu` of them); absent or empty: the worker gives
   * no ids and the runtime asks for a count. Docker passes them as DeviceIDs, exec as
   * CUDA_VISIBLE_DEVICES; Kubernetes asks for a count (the device plugin picks the cards).
   */
  gpuIds?: string[] | undefined;
  /** bytes */
  disk: number;
}

/** What a runtime can do, declared beside the contract (Nomad's driver Capabilities). */
export interface RuntimeCapabilities {
  /**
   * It fetches a task's inputs itself, inside what it runs, from their URLs (StartOptions.inputs),
   * so every input needs a URL; otherwise the worker stages them into a host folder first
   * (StartOptions.inputDir, through its artifact cache).
   */
  stagesInputsItself: boolean;
  /** Its logs cannot keep stdout and stderr apart: every entry comes as stdout, in order. */
  mergesStdStreams: boolean;
}

/** The folders of one attempt under <dataDir>/attempts/<attemptId>. */
export interface AttemptPaths {
  root: string;
  /** Where the task writes its outputs (/output in a container, $WHARF_OUTPUT_DIR for exec). */
  output: string;
  /** The working directory of an exec task. */
  work: string;
}

export interface RuntimeHandle {
  readonly runtime: RuntimeName;
  readonly attemptId: string;
  readonly taskId: string;
  /** When the container or process actually started (ms since epoch). */
  readonly startedAtMs: number;
  /** What the runtime applied (limits, user, capabilities, network); absent when it does not say. */
  readonly effective?: EffectiveSettings | undefined;
}

export type RuntimeEventKind = 'pulling' | 'pulled' | 'pull_progress';

export interface StartOptions {
  /** Progress before the task runs (image pull). */
  onEvent?: (kind: RuntimeEventKind, message: string) => void;
  /** A worker-side note for the task's log (SYSTEM stream). */
  note?: (text: string) => void;
  /** Aborts a start in progress (the attempt was cancelled while its image was pulled). */
  signal?: AbortSignal;
  /**
   * Files the task reads from /input (DAG artifacts), for a runtime that stages inputs itself
   * (capabilities.stagesInputsItself): it places each at /input/<name> after checking its sha256.
   */
  inputs?: RuntimeInput[];
  /**
   * A host folder where the worker already staged the task's input files (docker, exec): the
   * docker runtime bind-mounts it read-only at /input, the exec runtime passes it as
   * WHARF_INPUT_DIR. Absent: the task has no inputs.
   */
  inputDir?: string;
}

/** One input file of a task: where the runtime can GET it and what it must hash to. */
export interface RuntimeInput {
  /** The file name under /input (no folders). */
  name: string;
  /** Lower-case hex sha256 of the content. */
  sha256: string;
  size: number;
  /** An http(s) URL that serves the content to a plain GET (the init container runs wget). */
  url: string;
}

export interface RuntimeLogEntry {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  /** Position after this entry, for resuming after a worker restart (Docker: log time in ns). */
  cursor?: string;
}

export interface LogOptions {
  /** Only entries after this cursor (from an earlier RuntimeLogEntry). */
  after?: string;
  /** Stops following (the iteration ends or throws an AbortError). */
  signal?: AbortSignal;
}

export interface ExitStatus {
  exitCode: number;
  /**
   * Why the task failed when the runtime knows better than the exit code: a limit it hit
   * ("out of memory (limit 32Mi)", "disk limit 10Mi exceeded") or a kill from outside. Set =
   * the attempt failed, whatever the exit code.
   */
  reason?: string | undefined;
  /** Something the task's owner should know that did not fail it (for the task's log). */
  note?: string | undefined;
}

/** Something a runtime still runs (or ran) for this worker, found after a restart. */
export interface RecoveredAttempt {
  handle: RuntimeHandle;
  running: boolean;
  /** The task's timeout (0 = none), measured from handle.startedAtMs. */
  timeoutSeconds: number;
}

export interface RuntimeStats {
  cpuPercent: number;
  memoryBytes: number;
}

export interface TaskRuntime {
  readonly name: RuntimeName;
  readonly capabilities: RuntimeCapabilities;
  /** Starts the task; resolves once it actually runs. Throws RuntimeError with a clear message. */
  start(spec: AttemptSpec, paths: AttemptPaths, options?: StartOptions): Promise<RuntimeHandle>;
  /** Resolves when the task has ended; rejects when `signal` aborts first (the task keeps running). */
  wait(handle: RuntimeHandle, signal?: AbortSignal): Promise<ExitStatus>;
  /** Asks the task to stop (SIGTERM), then kills it (SIGKILL) after graceSeconds. Resolves once it ended. */
  stop(handle: RuntimeHandle, graceSeconds: number): Promise<void>;
  /** stdout and stderr in the order they were written; ends when the task has ended. */
  logs(handle: RuntimeHandle, options?: LogOptions): AsyncIterable<RuntimeLogEntry>;
  /** The host folder holding what the task wrote to its output dir, once it ended. */
  collectOutputs(handle: RuntimeHandle): Promise<string>;
  /** What this runtime still holds for this worker after a restart. */
  recover(): Promise<RecoveredAttempt[]>;
  /**
   * Runtimes that cannot re-attach to what they ran (exec): kills what an earlier worker process
   * left running and answers those attempts' ids; the worker removes their folders and reports
   * nothing for them (the master treats them as lost).
   */
  reapLeftovers?(): Promise<string[]>;
  stats?(handle: RuntimeHandle): Promise<RuntimeStats>;
  /** Releases what the task held (removes the container). Idempotent. */
  cleanup(handle: RuntimeHandle): Promise<void>;
}
