import type { TaskSpec__Output } from '@wharf/proto';
import { describe, expect, it } from 'vitest';
import { assignmentOf } from './assignment.js';

function wire(extra: Partial<TaskSpec__Output> = {}): TaskSpec__Output {
  return {
    taskId: 't1', attemptId: 'a1', attemptNumber: 1, name: 'job', image: 'img', command: ['true'], env: { MODE: 'x' }, runtime: 'docker',
    resources: { cpu: 1, memory: 0, gpu: 0, disk: 0 }, timeoutSeconds: 0, userId: 'u', inputs: [], useCache: true, directOutputs: null,
    network: '', networkGroup: '', user: '', readOnlyRootFilesystem: false, capAdd: [], pullPolicy: '', registryAuth: null, gpuIds: [],
    gangId: '', gangSize: 0, gangRank: 0, gangPeers: [], gangPort: 0,
    ...extra,
  } as TaskSpec__Output;
}

describe('assignmentOf', () => {
  it('gives a gang member its gang and PyTorch DDP environment, and the port to publish', () => {
    const { spec } = assignmentOf(wire({ gangId: 'g1', gangSize: 3, gangRank: 1, gangPeers: ['10.0.0.1:29500', '10.0.0.2:29501', '[fd00::3]:29502'], gangPort: 29501, env: { MASTER_PORT: '1234', WHARF_GANG_RANK: '9' } }), 'docker');
    expect(spec.env).toEqual({
      MASTER_ADDR: '10.0.0.1',
      MASTER_PORT: '1234',
      WORLD_SIZE: '3',
      RANK: '1',
      WHARF_GANG_ID: 'g1',
      WHARF_GANG_SIZE: '3',
      WHARF_GANG_RANK: '1',
      WHARF_GANG_PEERS: '10.0.0.1:29500,10.0.0.2:29501,[fd00::3]:29502',
      WHARF_GANG_PORT: '29501',
    });
    expect(spec.gangPort).toBe(29501);
  });

  it("leaves a plain task's env alone", () => {
    const { spec } = assignmentOf(wire(), 'docker');
    expect(spec.env).toEqual({ MODE: 'x' });
    expect(spec.gangPort).toBeUndefined();
  });
});
