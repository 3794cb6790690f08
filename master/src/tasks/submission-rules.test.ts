// Who may submit what: the configured resource limits and the admin-only settings, checked by
// the submission system for REST, the REPL and DAG files alike (a fast lifecycle harness).
import { afterEach, describe, expect, it } from 'vitest';
import type { NewTask } from '../records/task.js';
import { HARNESS_ADMIN, HARNESS_USER, TaskHarness } from './testing/harness.js';
import { parseTaskBatch, parseTaskInput } from './task-input.js';

const Mi = 1024 * 1024;
let harness: TaskHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(): Promise<TaskHarness> {
  harness = await TaskHarness.start({
    tasks: {
      limits: { cpu: { min: 0.1, default: 0.25, max: 2 }, memory: { min: 16 * Mi, default: 128 * Mi, max: 512 * Mi }, disk: { min: 0, default: 0 } },
    },
  });
  return harness;
}

function submission(body: Record<string, unknown>): NewTask {
  return parseTaskInput({ image: 'wharf/busybox', command: 'true', ...body });
}

describe('submission rules', () => {
  it('stores a task with the configured defaults for what it did not ask', async () => {
    const h = await start();
    const task = await h.tasks.submit(HARNESS_USER, submission({}));
    expect(task.resources).toEqual({ cpu: 0.25, memory: 128 * Mi, gpu: 0, disk: 0 });
    expect((await h.store.getTask(task.id))?.resources).toEqual({ cpu: 0.25, memory: 128 * Mi, gpu: 0, disk: 0 });
  });

  it('refuses cpu 0 and memory 0 from a user with 400 naming the field and the minimum, storing nothing', async () => {
    const h = await start();
    await expect(h.tasks.submit(HARNESS_USER, submission({ resources: { cpu: 0, memory: 0 } }))).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/^resources\.cpu: must be at least 0\.1 cores/),
    });
    await expect(h.tasks.submit(HARNESS_USER, submission({ resources: { memory: '1Gi' } }))).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'resources.memory: must be at most 512Mi, the maximum for a task (got 1Gi)',
    });
    expect((await h.store.listTasks({ limit: 10 })).tasks).toEqual([]);
  });

  it('names the task of a batch that is outside the limits, and queues none of it', async () => {
    const h = await start();
    const batch = parseTaskBatch({ tasks: [{ image: 'a' }, { image: 'a', resources: { cpu: 4 } }] });
    await expect(h.tasks.submitMany(HARNESS_USER, batch)).rejects.toMatchObject({ message: expect.stringMatching(/^tasks\[1\]\.resources\.cpu: must be at most 2 cores/) });
    expect((await h.store.listTasks({ limit: 10 })).tasks).toEqual([]);
  });

  it('lets an admin run without limits', async () => {
    const h = await start();
    const task = await h.tasks.submit(HARNESS_ADMIN, submission({ resources: { cpu: 0, memory: 0 } }));
    expect(task.resources).toMatchObject({ cpu: 0, memory: 0 });
  });

  it.each([
    [{ network: 'host' }, /^network: host shares the worker's own network stack; only admins may ask for it$/],
    [{ capAdd: ['NET_ADMIN'] }, /^capAdd: adding capabilities \(NET_ADMIN\) is for admins only$/],
    [{ user: '0' }, /^user: "0": give a numeric uid other than 0/],
    [{ user: '0:0' }, /^user: "0:0"/],
    [{ user: 'root' }, /^user: "root"/],
    [{ user: 'app' }, /^user: "app"/],
    [{ runtime: 'exec' }, /^runtime: exec tasks run on the worker host/],
  ])('refuses %j from a user with 403 naming the field', async (body, message) => {
    const h = await start();
    await expect(h.tasks.submit(HARNESS_USER, submission(body))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(message) });
  });

  it('takes the same settings from an admin, and a non-root uid from anyone', async () => {
    const h = await start();
    const admin = await h.tasks.submit(HARNESS_ADMIN, submission({ network: 'host', capAdd: ['cap_net_admin', 'SYS_PTRACE'], user: 'root' }));
    expect(admin).toMatchObject({ network: 'host', capAdd: ['NET_ADMIN', 'SYS_PTRACE'], user: 'root' });
    const user = await h.tasks.submit(HARNESS_USER, submission({ user: '1000:1000', readOnlyRootFilesystem: true, network: 'none', pullPolicy: 'Never' }));
    expect(user).toMatchObject({ user: '1000:1000', readOnlyRootFilesystem: true, network: 'none', pullPolicy: 'Never' });
  });

  it('keeps network "run" for tasks of a DAG run', async () => {
    const h = await start();
    await expect(h.tasks.submit(HARNESS_USER, submission({ network: 'run' }))).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'network: "run" is the network of a DAG run; only tasks of a DAG file may ask for it',
    });
  });
});
