// Runs a task as a host process (opt-in, for machines without Docker). The command array is
// the argv; the process leads its own process group, so stop() signals the whole group and
// children die with it, and when the main process exits its leftovers are killed, as in a
// container. Env = the task's env + PATH (when the task sets none) + WHARF_OUTPUT_DIR,
// WHARF_TASK_ID, WHARF_ATTEMPT_ID, and CUDA_VISIBLE_DEVICES when the master assigned GPU ids.
//
// Tasks die with their worker, however it dies (SIGKILL, OOM killer, a crash), like a
// container whose engine stops: each task starts through /bin/sh running LIFELINE_SCRIPT, which
// forks a watcher holding a pipe from the worker (fd 3) and then execs the task in its place
// (same pid: exit code and signal stay the task's own). When the worker process is gone the
// pipe reaches end-of-file and the watcher kills the whole process group. Where util-linux's
// `setpriv --pdeathsig` is available the task's main process also gets SIGKILL from the kernel
// the moment the worker dies (parent-death signal). Measured on the development machine: the
// sh wrapper adds about 1 ms to a task start, setpriv about 1.5 ms more (docs/OPERATIONS.md).
// A process that leaves the group (setsid, a daemon) escapes both, as it escapes stop().
//
// A restarted worker cannot re-attach to host processes: recover() finds nothing and the
// master treats such attempts as lost. Each running group is recorded in the data dir
// (exec-process-groups.ts); reapLeftovers() kills any a dead worker process left behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, chmod, constants, mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { AsyncQueue } from './async-queue.js';
import { ProcessGroupRecords, processStartTicks } from './exec-process-groups.js';
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

/**
 * `sh -c LIFELINE_SCRIPT wharf-exec <task argv>`. The watcher is forked twice, so it is not the
 * task's child (a task that waits for all its children never waits for it), reads fd 3 until
 * end-of-file and then kills its process group (the task's). It ignores TERM, INT, HUP and
 * QUIT so that stop()'s SIGTERM to the group leaves it watching through the grace period; those
 * dispositions are set inside the watcher only, so the task inherits none of them. The task is
 * exec'd without fd 3.
 */
export const LIFELINE_SCRIPT = [
  `( ( trap '' TERM INT HUP QUIT; read -r _line <&3; kill -9 0 ) </dev/null >/dev/null 2>&1 & )`,
  'exec "$@" 3<&-',
].join('\n');

const SHELL = '/bin/sh';
const SETPRIV_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

export interface ExecRuntimeOptions {
  /** PATH for tasks whose env has none (default: the worker's PATH). */
  defaultPath?: string;
  /**
   * Where the process group of each running task is recorded (<dataDir>/exec-groups), so a
   * restarted worker can kill leftovers (reapLeftovers). Absent: nothing is recorded.
   */
  stateDir?: string;
  /**
   * setpriv (util-linux) for the parent-death signal: a path, or false to go without it.
   * Default: found in /usr/bin, /bin, /usr/sbin or /sbin and tried once.
   */
  setpriv?: string | false;
  logger?: Logger;
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
  private readonly groups: ProcessGroupRecords | undefined;
  private setprivProbe: Promise<string | undefined> | undefined;

  constructor(private readonly options: ExecRuntimeOptions = {}) {
    this.groups = options.stateDir ? new ProcessGroupRecords(options.stateDir, options.logger) : undefined;
  }

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
    const defaultPath = this.options.defaultPath ?? process.env['PATH'];
    if (env['PATH'] === undefined && defaultPath !== undefined) env['PATH'] = defaultPath;
    env['WHARF_OUTPUT_DIR'] = paths.output;
    // DAG inputs: the files the worker staged (read-only, mode 0444) for this attempt
    if (options.inputDir) env['WHARF_INPUT_DIR'] = options.inputDir;
    env['WHARF_TASK_ID'] = spec.taskId;
    env['WHARF_ATTEMPT_ID'] = spec.attemptId;
    // a host process sees every card: the ones the master assigned are named to CUDA
    if (spec.resources.gpuIds && spec.resources.gpuIds.length > 0) env['CUDA_VISIBLE_DEVICES'] = spec.resources.gpuIds.join(',');

    // the shell would only say "not found" on stderr and exit 127: say it as a start failure
    await checkCommand(file, env['PATH'] ?? '', paths.work);
    const setpriv = await this.setpriv();
    const shellArgs = ['-c', LIFELINE_SCRIPT, 'wharf-exec', file, ...args];
    const [command, commandArgs] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', SHELL, ...shellArgs]] : [SHELL, shellArgs];
    const child = spawn(command, commandArgs, { cwd: paths.work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    // fd 3: the task's lifeline; the worker never writes it and holds it until the task's group is gone
    const lifeline = child.stdio[3] as Socket | null;
    lifeline?.on('error', () => undefined);
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

    const groups = this.groups;
    // recorded before anything can remove the record (a quick task may exit meanwhile)
    const recorded = groups ? this.record(groups, spec, pid, startedAtMs) : Promise.resolve();
    const state: ProcessState = {
      child,
      pid,
      hasExited: false,
      logs,
      outputDir: paths.output,
      exited: new Promise<ExitStatus>((resolve) => {
        child.once('exit', (code, signal) => {
          state.hasExited = true;
          killGroup(pid, 'SIGKILL'); // leftovers of the task (and its watcher), as when a container ends
          lifeline?.destroy();
          if (groups) {
            recorded
              .then(() => groups.remove(spec.attemptId))
              .catch((error: unknown) => this.options.logger?.warn({ err: error, attemptId: spec.attemptId }, 'cannot remove a process group record'));
          }
          resolve({ exitCode: code ?? 128 + signalNumber(signal) });
        });
      }),
    };
    await recorded;
    const handle: RuntimeHandle = { runtime: 'exec', attemptId: spec.attemptId, taskId: spec.taskId, startedAtMs };
    this.handles.set(handle, state);
    return handle;
  }

  /** Records the task's process group for a restarted worker (never throws). */
  private async record(groups: ProcessGroupRecords, spec: AttemptSpec, pid: number, startedAtMs: number): Promise<void> {
    try {
      const startTicks = await processStartTicks(pid);
      await groups.add({ attemptId: spec.attemptId, taskId: spec.taskId, pgid: pid, startTicks, startedAtMs });
    } catch (error: unknown) {
      this.options.logger?.warn({ err: error, attemptId: spec.attemptId }, 'cannot record the task\'s process group; a restarted worker will not find it');
    }
  }

  /** setpriv if it can set a parent-death signal here (tried once), else undefined with a warning. */
  private setpriv(): Promise<string | undefined> {
    this.setprivProbe ??= (async () => {
      if (this.options.setpriv === false) return undefined;
      const candidates = this.options.setpriv ? [this.options.setpriv] : SETPRIV_DIRS.map((dir) => path.join(dir, 'setpriv'));
      for (const candidate of candidates) {
        const works = await new Promise<boolean>((resolve) => {
          execFile(candidate, ['--pdeathsig', 'KILL', '--', SHELL, '-c', ':'], { timeout: 5000 }, (error) => resolve(!error));
        });
        if (works) return candidate;
      }
      this.options.logger?.warn(
        'setpriv --pdeathsig (util-linux) is not available: exec tasks die with the worker through their watcher process only',
      );
      return undefined;
    })();
    return this.setprivProbe;
  }

  /**
   * Kills the process groups an earlier worker process recorded and left running (it was
   * killed, or crashed) and forgets them. Answers their attempt ids: those attempts are gone.
   */
  async reapLeftovers(): Promise<string[]> {
    if (!this.groups) return [];
    const reaped: string[] = [];
    for (const record of await this.groups.list()) {
      const killed = await this.groups.kill(record);
      this.options.logger?.info(
        { attemptId: record.attemptId, taskId: record.taskId, pgid: record.pgid, killed },
        killed ? 'killed the processes of an attempt an earlier worker process left running' : 'an attempt of an earlier worker process is gone',
      );
      await this.groups.remove(record.attemptId);
      reaped.push(record.attemptId);
    }
    return reaped;
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

/** Throws start_failed unless `file` names an executable file (directly, or through PATH). */
async function checkCommand(file: string, searchPath: string, cwd: string): Promise<void> {
  const candidates = file.includes('/')
    ? [path.resolve(cwd, file)]
    : searchPath.split(':').map((dir) => path.join(dir === '' ? cwd : path.resolve(cwd, dir), file));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return;
    } catch {
      // not this one
    }
  }
  const where = file.includes('/') ? 'no executable file there' : `not found in PATH (${searchPath || 'empty'})`;
  throw new RuntimeError('start_failed', `cannot start "${file}": ${where}`);
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
