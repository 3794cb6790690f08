// A real master and one real Docker worker in this process (test/support/cluster.ts), with a
// registered user; stop() also removes any container the worker left behind.
import { execFileSync } from 'node:child_process';
import type { Task } from '../../master/src/records/task.js';
import { ApiClient } from '../../test/support/api-client.js';
import { TEST_IMAGE, removeTempDirs, spawnWorkerProcess, startTestMaster, startTestWorker } from '../../test/support/cluster.js';
import { startMasterProcess, type MasterProcess } from './master-process.js';
import { sleep } from './types.js';

export { TEST_IMAGE };

export interface DockerCluster {
  user: ApiClient;
  /** every status change of every task, as it happens in the master (ms timestamps) */
  transitions: Map<string, { status: string; at: number }[]>;
  stop(): Promise<void>;
}

export function removeContainersOf(workerId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine is gone already: nothing to clean
  }
}

export async function startDockerCluster(): Promise<DockerCluster> {
  const master = await startTestMaster({ WHARF_MAX_OUTPUT_BYTES: '2Gi' });
  const transitions = new Map<string, { status: string; at: number }[]>();
  const unsubscribe = master.tasks.onTaskChange((task: Task) => {
    const list = transitions.get(task.id) ?? [];
    if (list.at(-1)?.status !== task.status) list.push({ status: task.status, at: Date.now() });
    transitions.set(task.id, list);
  });
  let workerId: string | undefined;
  try {
    const worker = await startTestWorker(master, { runtimes: ['docker'], heartbeatIntervalMs: 300 });
    workerId = worker.workerId;
    const user = await ApiClient.registered(master.httpUrl.replace('localhost', '127.0.0.1'), `bench-${Date.now()}@example.com`);
    return {
      user,
      transitions,
      async stop() {
        unsubscribe();
        await worker.stop();
        await master.stop();
        removeContainersOf(worker.workerId);
        await removeTempDirs();
      },
    };
  } catch (error: unknown) {
    unsubscribe();
    await master.stop();
    if (workerId) removeContainersOf(workerId);
    await removeTempDirs();
    throw error;
  }
}

/** Waits until the task has a terminal status in the master, bounded by timeoutMs. */
export async function waitForTerminal(cluster: DockerCluster, taskId: string, timeoutMs: number): Promise<{ status: string; at: number }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = cluster.transitions.get(taskId)?.at(-1);
    if (last && (last.status === 'succeeded' || last.status === 'failed' || last.status === 'cancelled')) return last;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`task ${taskId} not finished within ${timeoutMs}ms`);
}

/**
 * A master and a Docker worker each in its own process, as they run in production: the
 * throughput scenarios (logs, uploads) measure the pipeline, not one shared event loop.
 */
export interface ProcessCluster {
  master: MasterProcess;
  user: ApiClient;
  /** Polls the task until it is terminal (every 20 ms, bounded); answers its status. */
  waitForTerminal(taskId: string, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startDockerProcessCluster(): Promise<ProcessCluster> {
  const master = await startMasterProcess({ WHARF_MAX_OUTPUT_BYTES: '2Gi' });
  const worker = spawnWorkerProcess(master, ['--runtimes', 'docker']);
  const workerExited = new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
  let workerId: string | undefined;
  const stop = async (): Promise<void> => {
    if (worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      const timer = setTimeout(() => worker.child.kill('SIGKILL'), 10_000);
      await workerExited;
      clearTimeout(timer);
    }
    await master.stop();
    if (workerId) removeContainersOf(workerId);
    await removeTempDirs();
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const list = await master.admin.request<{ workers: { id: string; status: string }[] }>('GET', '/api/workers');
      workerId = list.body.workers.find((w) => w.status === 'ready')?.id;
      if (workerId) break;
      if (worker.child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not join: ${worker.output().slice(-2000)}`);
      await sleep(100);
    }
    const user = await ApiClient.registered(master.httpUrl, `bench-${Date.now()}@example.com`);
    return {
      master,
      user,
      async waitForTerminal(taskId, timeoutMs) {
        const until = Date.now() + timeoutMs;
        while (Date.now() < until) {
          const response = await user.request<{ task: { status: string } }>('GET', `/api/tasks/${taskId}`);
          const status = response.body.task?.status;
          if (status === 'succeeded' || status === 'failed' || status === 'cancelled') return status;
          await sleep(20);
        }
        throw new Error(`task ${taskId} not finished within ${timeoutMs}ms`);
      },
      stop,
    };
  } catch (error: unknown) {
    await stop();
    throw error;
  }
}
