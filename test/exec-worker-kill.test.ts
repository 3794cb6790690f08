// Exec tasks die with their worker: a worker process running six exec tasks is SIGKILLed; no
// process of those tasks outlives it, and the same worker started again on its data dir runs
// each task once more (never beside the old processes) and removes the old attempts' folders.
// Real processes: the master in this process, the worker as `node worker/dist/cli.js`.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, spawnWorkerProcess, startTestMaster, waitFor } from './support/cluster.js';

const MARKER = `WHARF_KILL_TEST=${randomUUID()}`;
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning
    }
  }
  // whatever this test started and is still alive (only processes carrying its marker)
  for (const { pid } of await taskProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await removeTempDirs();
});

/** Live processes of this test's tasks, with the attempt each runs for. */
async function taskProcesses(): Promise<{ pid: number; attemptId: string | undefined }[]> {
  const found: { pid: number; attemptId: string | undefined }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie is no process
      const environ = (await readFile(`/proc/${name}/environ`, 'utf8')).split('\0');
      if (!environ.includes(MARKER)) continue;
      const attempt = environ.find((entry) => entry.startsWith('WHARF_ATTEMPT_ID='));
      found.push({ pid: Number(name), attemptId: attempt?.slice('WHARF_ATTEMPT_ID='.length) });
    } catch {
      // gone meanwhile, or not readable
    }
  }
  return found;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('exec tasks and a killed worker', () => {
  it('leaves no task process behind a SIGKILLed worker, and a restarted worker runs each task once more without the old folders', async () => {
    const master = await startTestMaster();
    cleanups.push(() => master.stop());
    const admin = await ApiClient.admin(master.httpUrl);
    const workerArgs = ['--runtimes', 'exec', '--name', 'exec-kill', '--cpu', '2'];
    const first = spawnWorkerProcess(master, workerArgs);
    cleanups.push(() => {
      first.child.kill('SIGKILL');
    });
    await waitFor('the worker to register', async () => {
      const workers = await admin.request<{ workers: { name: string; connected: boolean }[] }>('GET', '/api/workers');
      return workers.body.workers.some((w) => w.name === 'exec-kill' && w.connected) || undefined;
    }, 60_000);

    const [key, value] = MARKER.split('=') as [string, string];
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
        name: `exec-kill-${i}`,
        runtime: 'exec',
        // a shell with two children, so the whole group must die, not only the main process
        command: ['sh', '-c', 'sleep 300 & sleep 300; wait'],
        env: { [key]: value },
        resources: { cpu: '100m', memory: '16Mi' },
      });
      expect(submitted.status).toBe(201);
      ids.push(submitted.body.task.id);
    }
    const task = async (id: string): Promise<TaskBody> => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
    const firstAttempts = await waitFor('all six tasks running', async () => {
      const tasks = await Promise.all(ids.map(task));
      return tasks.every((t) => t.status === 'running') ? tasks.map((t) => t.attempts[0]!.id) : undefined;
    }, 60_000);
    // each task: its shell and two sleeps (and the worker's watcher)
    const allRunning = async (attempts: ReadonlySet<string>) => {
      const processes = await taskProcesses();
      return attempts.size === 6 && [...attempts].every((a) => processes.filter((p) => p.attemptId === a).length >= 3);
    };
    await waitFor('the task processes', async () => (await allRunning(new Set(firstAttempts))) || undefined, 30_000);
    for (const attemptId of firstAttempts) expect(existsSync(join(first.dataDir, 'attempts', attemptId))).toBe(true);

    first.child.kill('SIGKILL');
    await exited(first.child);
    await waitFor('no process of the tasks to outlive the worker', async () => (await taskProcesses()).length === 0 || undefined, 10_000, 50);

    const second = spawnWorkerProcess(master, workerArgs, { dataDir: first.dataDir });
    cleanups.push(async () => {
      second.child.kill('SIGTERM'); // a graceful stop ends its tasks
      await exited(second.child);
    });
    // each task runs once more: a second attempt, on the restarted worker
    const rerun = await waitFor('all six tasks running again', async () => {
      const tasks = await Promise.all(ids.map(task));
      return tasks.every((t) => t.status === 'running' && t.attempts.length === 2) ? tasks : undefined;
    }, 60_000);
    for (const t of rerun) {
      expect(t.attempts.map((a) => a.status)).toEqual(['lost', 'running']);
    }
    const secondAttempts = new Set(rerun.map((t) => t.attempts[1]!.id));
    await waitFor('the new task processes', async () => (await allRunning(secondAttempts)) || undefined, 30_000);
    const running = await taskProcesses();
    // only processes of the new attempts: nothing of the old ones runs beside them
    expect(running.filter((p) => !secondAttempts.has(p.attemptId ?? ''))).toEqual([]);
    expect(new Set(running.map((p) => p.attemptId)).size).toBe(6);
    // the old attempts' folders are gone, their process group records too
    for (const attemptId of firstAttempts) expect(existsSync(join(first.dataDir, 'attempts', attemptId))).toBe(false);
    const records = (await readdir(join(first.dataDir, 'exec-groups'))).filter((f) => f.endsWith('.json')).sort();
    expect(records).toEqual([...secondAttempts].map((id) => `${id}.json`).sort());
    expect(second.output()).toContain('an attempt of an earlier worker process is gone');

    for (const id of ids) expect((await admin.request('DELETE', `/api/tasks/${id}`)).status).toBe(202);
    await waitFor('the cancelled tasks\' processes to end', async () => (await taskProcesses()).length === 0 || undefined, 30_000);
  });
});
