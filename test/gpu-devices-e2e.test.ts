// GPUs as devices end to end on a machine without GPUs: a real master, a real worker whose GPU
// ids are given by flag (--gpus 0,1) and its real Docker runtime, which reaches the real engine
// through a recording stand-in (support/docker-recording-proxy.ts) so the test reads the
// container create requests. The engine creates those containers and refuses to start them (no
// NVIDIA runtime here), so the attempts end in an error; what is checked is what the worker asked
// the engine for, and what the API shows.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, TEST_IMAGE, waitFor } from './support/cluster.js';
import { RecordingDockerProxy } from './support/docker-recording-proxy.js';

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;
let docker: RecordingDockerProxy;
let admin: ApiClient;

beforeAll(async () => {
  master = await startTestMaster();
  docker = await RecordingDockerProxy.start(tempDir('gpu-docker'));
  worker = await startTestWorker(master, { name: 'two-gpus', gpuIds: ['0', '1'], dockerSocketPath: docker.socketPath });
  admin = await ApiClient.admin(master.httpUrl);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker?.workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // nothing left to remove
  }
  await docker?.stop();
  await master?.stop();
  await removeTempDirs();
});

type GpuTask = TaskBody & { attempts: (TaskBody['attempts'][number] & { gpuIds: string[] })[] };

describe('GPUs as devices', () => {
  it('shows the worker\'s GPU ids, given by flag', async () => {
    const response = await admin.request<{ worker: { gpuIds: string[]; capacity: { gpu: number } } }>('GET', `/api/workers/${worker.workerId}`);
    expect(response.body.worker).toMatchObject({ gpuIds: ['0', '1'], capacity: { gpu: 2 } });
  });

  it('gives two 1-GPU tasks placed together different device ids, and the worker asks Docker for exactly those', async () => {
    const gpuTask = (name: string) => ({ name, image: TEST_IMAGE, command: ['true'], resources: { cpu: 0.1, memory: '32Mi', gpu: 1 } });
    const submitted = await admin.request<{ tasks: TaskBody[] }>('POST', '/api/tasks/batch', { tasks: [gpuTask('gpu-a'), gpuTask('gpu-b')] });
    expect(submitted.status, submitted.text).toBe(201);
    const ended = await Promise.all(
      submitted.body.tasks.map((t) =>
        waitFor(`task ${t.id} to end`, async () => {
          const response = await admin.request<{ task: GpuTask }>('GET', `/api/tasks/${t.id}`);
          return ['failed', 'succeeded'].includes(response.body.task.status) ? response.body.task : undefined;
        }, 60_000),
      ),
    );
    const assigned = ended.map((t) => t.attempts[0]!.gpuIds);
    expect(assigned.map((ids) => ids.length)).toEqual([1, 1]);
    expect(new Set(assigned.flat())).toEqual(new Set(['0', '1']));
    for (const [index, task] of ended.entries()) {
      const creates = docker.createsOf(task.id);
      expect(creates).toHaveLength(1);
      expect(creates[0]!.body.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: assigned[index], Capabilities: [['gpu']] }]);
    }
  });
});
