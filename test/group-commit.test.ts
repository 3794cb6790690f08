// Worker reports are stored in group commits (many reports, one transaction, each report still
// conditional on its own), and a start that arrives with its result is folded into the result's
// commit. Simulated workers (real gRPC, `sim` runtime) send accepted, started and the result at
// once, so every report of a task arrives in the same round: the case the folding handles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../bench/support/sim-workers.js';
import type { Task } from '../master/src/records/task.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster } from './support/cluster.js';

describe('group commit of worker reports', () => {
  let master: Awaited<ReturnType<typeof startTestMaster>>;
  let cluster: SimCluster;
  const seen = new Map<string, string[]>();

  beforeAll(async () => {
    master = await startTestMaster();
    master.tasks.onTaskChange((task: Task) => {
      const list = seen.get(task.id) ?? [];
      if (list.at(-1) !== task.status) list.push(task.status);
      seen.set(task.id, list);
    });
    cluster = new SimCluster({ grpcAddress: master.grpcAddress, joinToken: master.joinToken, caHash: master.caHash, workers: 8 });
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
    await master.stop();
    await removeTempDirs();
  });

  it('records every task once, with its start, when hundreds of reports arrive together', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'group@example.com');
    const tasks = Array.from({ length: 400 }, (_, i) => ({ name: `g-${i}`, image: 'sim', runtime: 'sim', resources: { cpu: 0.01, memory: '6Mi' } }));
    const submitted = await user.request<{ tasks: { id: string }[] }>('POST', '/api/tasks/batch', { tasks });
    expect(submitted.status, submitted.text).toBe(201);
    await cluster.waitForAcks(400, 60_000);
    await master.tasks.idle();

    for (const { id } of submitted.body.tasks) {
      // listeners saw the whole lifecycle, `running` included, in order
      expect(seen.get(id)).toEqual(['queued', 'assigned', 'running', 'succeeded']);
    }
    for (const { id } of submitted.body.tasks.slice(0, 40)) {
      const { body } = await user.request<{ task: TaskBody & { events: { kind: string }[]; startedAt?: string } }>('GET', `/api/tasks/${id}`);
      expect(body.task.status).toBe('succeeded');
      expect(body.task.attempts).toHaveLength(1);
      expect(body.task.attempts[0]?.startedAt).toBeTruthy();
      expect(body.task.startedAt).toBeTruthy();
      expect(body.task.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running', 'succeeded']);
    }
    const page = await user.request<{ tasks: { status: string }[] }>('GET', '/api/tasks?status=succeeded&limit=500');
    expect(page.body.tasks).toHaveLength(400);
    expect(cluster.assigns).toHaveLength(400);
  });
});
