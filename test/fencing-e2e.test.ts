// Fencing end to end over a partition that lasts less than the master's heartbeat TTL: a worker
// whose --stop-after is shorter stops its task on its own, the master (which never declared it
// lost) re-queues the task uncharged when the `stopped` result arrives, and the task runs once
// more. Real master, real worker, real processes, gRPC over TLS on loopback through a relay the test
// cuts (test/support/partition-proxy.ts).
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';
import { PartitionProxy } from './support/partition-proxy.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning
    }
  }
  await removeTempDirs();
});

/** Live processes carrying this marker in their environment. */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if ((await readFile(`/proc/${name}/environ`, 'utf8')).split('\0').includes(marker)) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

describe('a partition shorter than the heartbeat TTL', () => {
  it('lets a worker with a shorter --stop-after stop its task, and the master re-queues it uncharged when the stopped result arrives', async () => {
    const master = await startTestMaster({ WHARF_HEARTBEAT_TTL: '5s' });
    cleanups.push(() => master.stop());
    const proxy = await PartitionProxy.start({ host: '127.0.0.1', port: master.grpcPort });
    cleanups.push(() => proxy.close());
    const worker = await startTestWorker(
      { grpcAddress: proxy.address, joinToken: master.joinToken, caHash: master.caHash },
      { name: 'fenced', runtimes: ['exec'], stopAfterMs: 1000, cancelGraceSeconds: 1 },
    );
    cleanups.push(() => worker.stop());
    const admin = await ApiClient.admin(master.httpUrl);

    const marker = `WHARF_FENCE_E2E=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const once = join(tempDir('fence-marker'), 'ran-once');
    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
      runtime: 'exec',
      // the first run waits forever; the run after it finds the marker and succeeds
      command: ['sh', '-c', `if [ -e "${once}" ]; then echo second run; exit 0; fi; touch "${once}"; echo first run; sleep 300`],
      env: { [key]: value },
      resources: { cpu: '100m', memory: '16Mi' },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.task.id;
    const task = async (): Promise<TaskBody> => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
    await waitFor('the first run', async () => (await task()).status === 'running' && (await processesWith(marker)).length > 0, 30_000);

    proxy.cut();
    // the worker, cut off for longer than its --stop-after, stops the task on its own
    await waitFor('the worker to stop its task', async () => (await processesWith(marker)).length === 0 || undefined, 15_000, 50);
    const whileCut = await task();
    proxy.heal();
    // the master never declared it lost (5 s TTL) and did not re-queue anything meanwhile
    expect(whileCut.status).toBe('running');
    expect(whileCut.attempts).toHaveLength(1);

    const done = await waitFor('the task to finish', async () => {
      const t = await task();
      return t.status === 'succeeded' || t.status === 'failed' ? t : undefined;
    }, 30_000);
    expect(done.status).toBe('succeeded');
    expect(done.retriesUsed).toBe(0);
    expect(done.attempts.map((a) => a.status)).toEqual(['stopped', 'succeeded']);
    expect(done.attempts[0]!.error).toMatch(/^stopped: no contact with the master for [\d.]+s \(--stop-after 1s\)$/);
    expect(done.events.filter((e) => ['succeeded', 'failed', 'cancelled'].includes(e.kind))).toHaveLength(1);
    expect(done.events.some((e) => e.kind === 'lost')).toBe(false);
    const workers = await admin.request<{ workers: { name: string; status: string }[] }>('GET', '/api/workers');
    expect(workers.body.workers.find((w) => w.name === 'fenced')?.status).toBe('ready');
    const logs = await admin.request('GET', `/api/tasks/${id}/logs`);
    expect(logs.text).toMatch(
      /^--- attempt 1 on worker \S+ ---\nfirst run\n\[wharf\] stopped: no contact with the master for [\d.]+s \(--stop-after 1s\); stopping the task\n--- attempt 2 on worker \S+ ---\nsecond run\n$/,
    );
  });
});
