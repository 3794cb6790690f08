import { describe, expect, it } from 'vitest';
import type { WorkerView } from '../api-types.js';
import { UsageError } from '../errors.js';
import { runAgainstFakeMaster } from '../testing/fake-master.js';
import { WORKER_COMMANDS } from './worker-commands.js';

const rm = WORKER_COMMANDS.find((c) => c.name === 'worker rm')!;
const ID = '7c0d41aa-1111-4222-8333-444455556666';

function worker(fields: Partial<WorkerView>): WorkerView {
  const none = { cpu: 0, memory: 0, gpu: 0, disk: 0 };
  return {
    id: ID,
    name: 'gpu-box-1',
    hostname: 'gpu-box-1',
    status: 'ready',
    connected: true,
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 8, memory: 32 * 1024 ** 3, gpu: 1, disk: 0 },
    reserved: none,
    usage: null,
    runningTasks: 0,
    version: '0.1.0',
    registeredAt: '2025-06-01T11:00:00.000Z',
    lastHeartbeatAt: '2025-06-01T12:00:00.000Z',
    ...fields,
  };
}

const routes = (runningTasks: number) => ({
  'GET /api/workers': { workers: [worker({ runningTasks }), worker({ id: '0aa00000-1111-4222-8333-444455556666', name: 'other' })] },
  [`DELETE /api/workers/${ID}`]: { worker: { id: ID, name: 'gpu-box-1', removed: true } },
});

describe('wharf worker rm', () => {
  it('refuses without --yes when stdin is not a terminal (a usage error), asking the master nothing', async () => {
    const attempt = runAgainstFakeMaster(rm, ['gpu-box-1'], routes(0));
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow('no terminal to confirm on: pass --yes to remove the worker');
  });

  it('with --yes removes the worker named by its name, and says its tasks are held until its fencing bound, then re-queued', async () => {
    const run = await runAgainstFakeMaster(rm, ['gpu-box-1', '--yes'], routes(2));
    expect(run.client.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/workers', `DELETE /api/workers/${ID}`]);
    expect(run.stdout).toContain('worker gpu-box-1 (7c0d41aa) is removed: its certificate is revoked and its connection closed; its 2 tasks are held until it must have stopped them (its fencing bound');
    expect(run.stdout).toContain('then re-queued on other workers, not counted as retries. It can come back only by joining again with a join token, as a new worker.');
  });

  it('takes an id prefix, and says so when the worker ran nothing', async () => {
    const run = await runAgainstFakeMaster(rm, ['7c0d', '-y'], routes(0));
    expect(run.client.requests.at(-1)).toEqual({ method: 'DELETE', path: `/api/workers/${ID}` });
    expect(run.stdout).toContain('; it ran no tasks.');
  });

  it('asks on a terminal: n (or any other key) keeps the worker, y removes it', async () => {
    const kept = await runAgainstFakeMaster(rm, ['gpu-box-1'], routes(1), { keys: ['n'] });
    expect(kept.stderr).toContain('remove worker gpu-box-1 (7c0d41aa, ready; its 1 task will run elsewhere)? [y/N] ');
    expect(kept.stderr).toContain('worker gpu-box-1 is not removed');
    expect(kept.client.requests.map((r) => r.method)).toEqual(['GET']);
    const removed = await runAgainstFakeMaster(rm, ['gpu-box-1'], routes(1), { keys: ['y'] });
    expect(removed.client.requests.map((r) => r.method)).toEqual(['GET', 'DELETE']);
    expect(removed.stdout).toContain('its task is held until it must have stopped it');
  });
});
