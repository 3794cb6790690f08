// Runs a task as a host process (opt-in, for machines without Docker). The command array is
// the argv; the process leads its own process group, so stop() signals the whole group and
// children die with it, and when the main process exits its leftovers are killed, as in a
// container. Env = the task's env + PATH (when the task sets none) + WHARF_OUTPUT_DIR,
// WHARF_TASK_ID, WHARF_ATTEMPT_ID. A restarted worker cannot re-attach to host processes:
// recover() finds nothing and the master treats such attempts as lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { AsyncQueue } from './async-queue.js';
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

export interface ExecRuntimeOptions {
  /** PATH for tasks whose env has none (default: the worker's PATH). */
  defaultPath?: string;
}

interface ProcessState {
  child: ChildProcess;
  pid: number;
  exited: Promise<ExitStatus>;
  hasExited: boolean;
  logs: AsyncQueue<RuntimeLogEntry>;
  outputDir: string;
}

export class ExecRuntime implements TaskRuntime {
  readonly name = 'exec' as const;
  readonly capabilities: RuntimeCapabilities = { stagesInputsItself: false, mergesStdStreams: false };
  private readonly handles = new WeakMap<RuntimeHandle, ProcessState>();

  constructor(private readonly options: ExecRuntimeOptions = {}) {}

  async start(spec: AttemptSpec, paths: AttemptPaths, options: StartOptions = {}): Promise<RuntimeHandle> {
    const [file, ...args] = spec.command;
    if (file === undefined || file === '') {
      throw new RuntimeError('unsupported', 'the exec runtime needs a command (the task has none)');
    }
    if (options.signal?.aborted) throw new RuntimeError('cancelled', 'the attempt was cancelled before it started');
    await mkdir(paths.work, { recursive: true });
    await mkdir(paths.output, { recursive: true });
    await chmod(paths.output, 0o777);

    const env: Record<string, string> = { ...spec.env };
    const path = this.options.defaultPath ?? process.env['PATH'];
    if (env['PATH'] === undefined && path !== undefined) env['PATH'] = path;
    env['WHARF_OUTPUT_DIR'] = paths.output;
    // DAG inputs: the files the worker staged (read-only, mode 0444) for this attempt
    if (options.inputDir) env['WHARF_INPUT_DIR'] = options.inputDir;
    env['WHARF_TASK_ID'] = spec.taskId;
    env['WHARF_ATTEMPT_ID'] = spec.attemptId;

    const child = spawn(file, args, { cwd: paths.work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) =>
        reject(new RuntimeError('start_failed', `cannot start "${file}": ${errorMessage(error)}`, { cause: error })),
      );
    });
    const pid = child.pid;
    if (pid === undefined) throw new RuntimeError('start_failed', `cannot start "${file}": no process id`);
    const startedAtMs = Date.now();

    const logs = new AsyncQueue<RuntimeLogEntry>();
    let openPipes = 2;
    const pipeClosed = (): void => {
      openPipes -= 1;
      if (openPipes === 0) logs.end();
    };
    child.stdout?.on('data', (data: Buffer) => logs.push({ stream: 'stdout', data }));
    child.stderr?.on('data', (data: Buffer) => logs.push({ stream: 'stderr', data }));
    child.stdout?.once('close', pipeClosed);
    child.stderr?.once('close', pipeClosed);

    const state: ProcessState = {
      child,
      pid,
      hasExited: false,
      logs,
      outputDir: paths.output,
      exited: new Promise<ExitStatus>((resolve) => {
        child.once('exit', (code, signal) => {
          state.hasExited = true;
          killGroup(pid, 'SIGKILL'); // leftovers of the task, as when a container ends
          resolve({ exitCode: code ?? 128 + signalNumber(signal) });
        });
      }),
    };
    const handle: RuntimeHandle = { runtime: 'exec', attemptId: spec.attemptId, taskId: spec.taskId, startedAtMs };
    this.handles.set(handle, state);
    return handle;
  }

  async wait(handle: RuntimeHandle, signal?: AbortSignal): Promise<ExitStatus> {
    const { exited } = this.stateOf(handle);
    if (!signal) return exited;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([exited, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  async stop(handle: RuntimeHandle, graceSeconds: number): Promise<void> {
    const state = this.stateOf(handle);
    if (state.hasExited) return;
    if (graceSeconds <= 0) {
      killGroup(state.pid, 'SIGKILL');
      await state.exited;
      return;
    }
    killGroup(state.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), Math.max(0, graceSeconds) * 1000);
    });
    const outcome = await Promise.race([state.exited.then(() => 'exited' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'grace-over') killGroup(state.pid, 'SIGKILL');
    await state.exited;
  }

  async *logs(handle: RuntimeHandle, options: LogOptions = {}): AsyncIterable<RuntimeLogEntry> {
    const iterator = this.stateOf(handle).logs[Symbol.asyncIterator]();
    const signal = options.signal;
    const aborted = new Promise<IteratorResult<RuntimeLogEntry>>((resolve) => {
      signal?.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
    });
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  }

  async collectOutputs(handle: RuntimeHandle): Promise<string> {
    return this.stateOf(handle).outputDir;
  }

  async recover(): Promise<RecoveredAttempt[]> {
    return [];
  }

  async cleanup(handle: RuntimeHandle): Promise<void> {
    const state = this.handles.get(handle);
    if (state && !state.hasExited) {
      killGroup(state.pid, 'SIGKILL');
      await state.exited;
    }
  }

  private stateOf(handle: RuntimeHandle): ProcessState {
    const state = this.handles.get(handle);
    if (!state) throw new RuntimeError('unknown_handle', `attempt ${handle.attemptId} is not a process of this runtime`);
    return state;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (os.constants.signals[signal] ?? 0) : 0;
}
