// The exec runtime's lifeline wrapper on real processes: exit codes and signals come through
// unchanged, the task inherits no ignored signals, the group dies when the worker's end of the
// lifeline closes, and a restarted worker kills the groups an earlier process recorded.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessGroupRecords } from './exec-process-groups.js';
import { ExecRuntime, LIFELINE_SCRIPT } from './exec-runtime.js';
import { DEFAULT_ISOLATION, type AttemptPaths, type AttemptSpec, type RuntimeHandle } from './task-runtime.js';

const dirs: string[] = [];
const started: { runtime: ExecRuntime; handle: RuntimeHandle }[] = [];

afterEach(async () => {
  for (const { runtime, handle } of started.splice(0)) await runtime.cleanup(handle).catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-exec-unit-'));
  dirs.push(dir);
  return dir;
}

function spec(command: string[], env: Record<string, string> = {}): AttemptSpec {
  const attemptId = `exec-${randomUUID()}`;
  return {
    taskId: `task-${attemptId}`,
    attemptId,
    attemptNumber: 1,
    name: 'exec-unit',
    image: '',
    command,
    env,
    runtime: 'exec',
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'tester',
    isolation: DEFAULT_ISOLATION,
  };
}

async function start(runtime: ExecRuntime, task: AttemptSpec, root?: string): Promise<RuntimeHandle> {
  const base = root ?? (await tempDir());
  const paths: AttemptPaths = { root: base, output: path.join(base, 'output'), work: path.join(base, 'work') };
  const handle = await runtime.start(task, paths);
  started.push({ runtime, handle });
  return handle;
}

async function stdoutOf(runtime: ExecRuntime, handle: RuntimeHandle): Promise<string> {
  let text = '';
  for await (const entry of runtime.logs(handle)) if (entry.stream === 'stdout') text += entry.data.toString();
  return text;
}

/** Pids of live processes whose environment holds this marker. */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = await readFile(`/proc/${name}/environ`, 'utf8');
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (environ.split('\0').includes(marker) && state !== 'Z') found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('exec GPU ids', () => {
  it('names the GPU ids the master assigned to CUDA_VISIBLE_DEVICES, and leaves it alone without ids', async () => {
    const exec = new ExecRuntime({});
    const task = { ...spec(['sh', '-c', 'echo "[${CUDA_VISIBLE_DEVICES-unset}]"']), resources: { cpu: 0, memory: 0, gpu: 2, gpuIds: ['1', '3'], disk: 0 } };
    const handle = await start(exec, task);
    const [text] = await Promise.all([stdoutOf(exec, handle), exec.wait(handle)]);
    expect(text).toBe('[1,3]\n');
    const plain = await start(exec, spec(['sh', '-c', 'echo "[${CUDA_VISIBLE_DEVICES-unset}]"']));
    const [none] = await Promise.all([stdoutOf(exec, plain), exec.wait(plain)]);
    // a task's env is its own (plus PATH and WHARF_*): nothing of the worker's comes through
    expect(none).toBe('[unset]\n');
  });
});

describe.each([
  { name: 'with setpriv', setpriv: undefined },
  { name: 'without setpriv', setpriv: false as const },
])('exec lifeline wrapper ($name)', ({ setpriv }) => {
  const runtime = (): ExecRuntime => new ExecRuntime(setpriv === false ? { setpriv } : {});

  it('reports the task\'s own exit code (exit 3 is 3)', async () => {
    const exec = runtime();
    const handle = await start(exec, spec(['sh', '-c', 'echo out; exit 3']));
    const [text, exit] = await Promise.all([stdoutOf(exec, handle), exec.wait(handle)]);
    expect(text).toBe('out\n');
    expect(exit.exitCode).toBe(3);
  });

  it('reports a task killed by SIGTERM as 143, whether stop() or the task itself sent it', async () => {
    const exec = runtime();
    const stopped = await start(exec, spec(['sleep', '30']));
    await exec.stop(stopped, 5);
    expect((await exec.wait(stopped)).exitCode).toBe(143);

    const selfKilled = await start(exec, spec(['sh', '-c', 'kill -TERM $$; sleep 5']));
    expect((await exec.wait(selfKilled)).exitCode).toBe(143);
  });

  it('runs the task as the process it started (same pid), with no ignored signals inherited', async () => {
    const exec = runtime();
    const handle = await start(exec, spec(['sh', '-c', 'echo "$$"; grep SigIgn /proc/self/status']));
    const text = await stdoutOf(exec, handle);
    await exec.wait(handle);
    const [shellPid, sigIgn] = text.trim().split('\n');
    expect(Number(shellPid)).toBeGreaterThan(0);
    expect(sigIgn).toMatch(/^SigIgn:\s+[0-9a-f]{16}$/);
    // Signals 1-31 (SIGINT, SIGTERM, SIGHUP, SIGPIPE, ...) are what a task's shell relies on and
    // what a wrapper could leave ignored. Real-time signals (32 and up) ignored by whoever started
    // the test runner pass through every process (Node resets only 1-31 for a child), so they are
    // not the wrapper's doing and are left out.
    const ignored = BigInt(`0x${sigIgn!.split(/\s+/)[1]}`);
    expect((ignored & 0x7fffffffn).toString(16)).toBe('0');
  });
});

describe('exec lifeline', () => {
  it('kills the whole process group when the worker\'s end of the pipe closes (as when the worker dies)', async () => {
    const marker = `WHARF_LIFELINE_TEST=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const child = spawn('/bin/sh', ['-c', LIFELINE_SCRIPT, 'wharf-exec', 'sh', '-c', 'sleep 300 & sleep 300; wait'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, [key]: value },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      // the task shell, its two sleeps and the watcher
      await until('the task and its children to run', async () => (await processesWith(marker)).length === 4);
      (child.stdio[3] as Socket).destroy();
      await until('every process of the group to be gone', async () => (await processesWith(marker)).length === 0);
      expect(await exited).toBe('SIGKILL');
    } finally {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  it('keeps the task running through a stop() grace: the watcher ignores the SIGTERM sent to the group', async () => {
    const exec = new ExecRuntime();
    const marker = `WHARF_LIFELINE_TEST=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const handle = await start(exec, spec(['sh', '-c', 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done'], { [key]: value }));
    const logs = exec.logs(handle)[Symbol.asyncIterator]();
    await logs.next();
    // A grace long enough that a busy machine still looks inside it (with 1 s the look could come
    // after the SIGKILL when the scan of /proc was slow), short enough to keep the test quick.
    const stopping = exec.stop(handle, 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // the task survived its SIGTERM and so did the watcher: shell + watcher (+ maybe a sleep)
    expect((await processesWith(marker)).length).toBeGreaterThanOrEqual(2);
    await stopping;
    expect((await exec.wait(handle)).exitCode).toBe(137);
    await until('the group to be gone', async () => (await processesWith(marker)).length === 0);
  });
});

describe('exec process group records', () => {
  it('lets a restarted worker kill the groups an earlier process left running, and forget them', async () => {
    const stateDir = await tempDir();
    const first = new ExecRuntime({ stateDir });
    const marker = `WHARF_LIFELINE_TEST=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const task = spec(['sh', '-c', 'sleep 300 & sleep 300'], { [key]: value });
    const handle = await start(first, task);
    expect((await readdir(stateDir)).filter((f) => f.endsWith('.json'))).toEqual([`${task.attemptId}.json`]);
    await until('the task to run', async () => (await processesWith(marker)).length >= 3);

    const restarted = new ExecRuntime({ stateDir });
    expect(await restarted.reapLeftovers()).toEqual([task.attemptId]);
    await until('the leftover group to be gone', async () => (await processesWith(marker)).length === 0);
    expect((await first.wait(handle)).exitCode).toBe(137);
    expect(await readdir(stateDir)).toEqual([]);
    expect(await restarted.reapLeftovers()).toEqual([]);
  });

  it('never kills a process that merely reuses a recorded pid', async () => {
    const stateDir = await tempDir();
    const records = new ProcessGroupRecords(stateDir);
    // this test process, recorded with a start time it does not have
    await records.add({ attemptId: 'reused-pid', taskId: 't', pgid: process.pid, startTicks: '1', startedAtMs: 0 });
    // a group that is long gone
    await records.add({ attemptId: 'gone', taskId: 't', pgid: 4_000_000, startTicks: '2', startedAtMs: 0 });
    const reaped = await new ExecRuntime({ stateDir }).reapLeftovers();
    expect(reaped.sort()).toEqual(['gone', 'reused-pid']);
    expect(await readdir(stateDir)).toEqual([]);
  });

  it('removes its record when the task ends', async () => {
    const stateDir = await tempDir();
    const exec = new ExecRuntime({ stateDir });
    const handle = await start(exec, spec(['true']));
    await exec.wait(handle);
    await until('the record to go', async () => (await readdir(stateDir)).length === 0);
  });
});
