// A real master and one real Docker worker in this process (test/support/cluster.ts), with a
// registered user; stop() also removes any container the worker left behind.
import { execFileSync } from 'node:child_process';
import type { Task } from '../../master/src/tasks/task-types.js';
import { ApiClient } from '../../test/support/api-client.js';
import { TEST_IMAGE, removeTempDirs, startTestMaster, startTestWorker } from '../../test/support/cluster.js';

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
        removeTempDirs();
      },
    };
  } catch (error: unknown) {
    unsubscribe();
    await master.stop();
    if (workerId) removeContainersOf(workerId);
    removeTempDirs();
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
