import { loadWharfProto, type MasterMessage, type MasterMessage__Output } from '@wharf/proto';
import { describe, expect, it } from 'vitest';
import type { Attempt } from '../records/attempt.js';
import type { MasterDown } from '../records/master-down.js';
import type { Task } from '../records/task.js';
import { toMasterMessage } from './master-messages.js';

// Through the real wire: what the gateway writes is serialised with wharf.proto and read back the
// way a worker reads it.
const connect = loadWharfProto().wharf.v1.WorkerGateway.service.Connect;
function overTheWire(down: MasterDown): MasterMessage__Output {
  const message: MasterMessage = toMasterMessage(down);
  return connect.responseDeserialize(connect.responseSerialize(message)) as MasterMessage__Output;
}

const task: Task = {
  id: 'task-1',
  name: 'train',
  userId: 'user-1',
  image: 'wharf/busybox:latest',
  command: ['sh', '-c', 'echo hi'],
  env: { MODE: 'fast' },
  runtime: 'docker',
  labels: { zone: 'a' },
  status: 'assigned',
  priority: 50,
  resources: { cpu: 0.5, memory: 256 * 1024 * 1024, gpu: 1, disk: 1024 },
  maxRetries: 2,
  timeoutSeconds: 30,
  retriesUsed: 0,
  createdAt: 1,
  attemptCount: 3,
  queue: 'default',
};
const attempt: Attempt = { id: 'attempt-3', taskId: 'task-1', number: 3, workerId: 'w-1', status: 'assigned', resources: task.resources, createdAt: 2 };

describe('master messages on the wire', () => {
  it('carries an assignment as a TaskSpec with the task, the attempt and its resources', () => {
    const wire = overTheWire({ kind: 'assign', assignment: { task, attempt } });
    expect(wire.payload).toBe('assign');
    expect(wire.assign).toMatchObject({
      taskId: 'task-1',
      attemptId: 'attempt-3',
      attemptNumber: 3,
      name: 'train',
      image: 'wharf/busybox:latest',
      command: ['sh', '-c', 'echo hi'],
      env: { MODE: 'fast' },
      runtime: 'docker',
      resources: { cpu: 0.5, memory: 256 * 1024 * 1024, gpu: 1, disk: 1024 },
      timeoutSeconds: 30,
      userId: 'user-1',
      inputs: [],
      useCache: false,
    });
    expect(wire.assign?.directOutputs ?? null).toBeNull();
    // a plain task: every container setting at its default, and no credentials
    expect(wire.assign).toMatchObject({ network: '', networkGroup: '', user: '', readOnlyRootFilesystem: false, capAdd: [], pullPolicy: '' });
    expect(wire.assign?.registryAuth ?? null).toBeNull();
  });

  it('carries the container settings, a run network with its group, and registry credentials', () => {
    const hardened: Task = {
      ...task,
      dagId: 'run-7',
      network: 'run',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: ['NET_ADMIN'],
      pullPolicy: 'Always',
    };
    const wire = overTheWire({
      kind: 'assign',
      assignment: { task: hardened, attempt, registryAuth: { serverAddress: 'registry.example:5000', username: 'ada', password: 's3cret' } },
    });
    expect(wire.assign).toMatchObject({
      network: 'run',
      networkGroup: 'run-7',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: ['NET_ADMIN'],
      pullPolicy: 'Always',
      registryAuth: { serverAddress: 'registry.example:5000', username: 'ada', password: 's3cret' },
    });
  });

  it('carries a gang member\'s gang, rank, peers and own port (fields 30-34), and nothing of gangs for other tasks', () => {
    const member = { ...task, gangId: 'g1', gangRank: 2, gangSize: 3, gangPort: 29500 };
    const peers = ['10.0.0.1:29500', '10.0.0.2:29501', '[fd00::3]:29502'];
    const wire = overTheWire({ kind: 'assign', assignment: { task: member, attempt: { ...attempt, gangPeers: peers } } });
    expect(wire.assign).toMatchObject({ gangId: 'g1', gangSize: 3, gangRank: 2, gangPeers: peers, gangPort: 29502 });
    expect(overTheWire({ kind: 'assign', assignment: { task, attempt } }).assign).toMatchObject({ gangId: '', gangSize: 0, gangRank: 0, gangPeers: [], gangPort: 0 });
  });

  it('gives DAG inputs their URL (empty = fetch from the master) and the task cache setting', () => {
    const dagTask: Task = { ...task, useCache: true, outputs: ['model.bin'] };
    const wire = overTheWire({
      kind: 'assign',
      assignment: {
        task: dagTask,
        attempt,
        inputs: [
          { name: 'data.csv', sha256: 'a'.repeat(64), size: 10, url: 'https://s3.example/data' },
          { name: 'vocab.txt', sha256: 'b'.repeat(64), size: 20 },
        ],
        directOutputs: ['model.bin'],
      },
    });
    expect(wire.assign?.inputs).toEqual([
      { name: 'data.csv', sha256: 'a'.repeat(64), size: 10, url: 'https://s3.example/data' },
      { name: 'vocab.txt', sha256: 'b'.repeat(64), size: 20, url: '' },
    ]);
    expect(wire.assign?.useCache).toBe(true);
    expect(wire.assign?.directOutputs?.names).toEqual(['model.bin']);
  });

  it('translates cancel, result acknowledgement, drain orders and heartbeat acknowledgements', () => {
    expect(overTheWire({ kind: 'cancel', attemptId: 'a-1', reason: 'cancelled by ada@example.com', graceSeconds: 10 })).toMatchObject({
      payload: 'cancel',
      cancel: { attemptId: 'a-1', reason: 'cancelled by ada@example.com', graceSeconds: 10 },
    });
    expect(overTheWire({ kind: 'resultAck', attemptId: 'a-2' })).toMatchObject({ payload: 'resultAck', resultAck: { attemptId: 'a-2' } });
    expect(overTheWire({ kind: 'drain', draining: true })).toMatchObject({ payload: 'drain', drain: { draining: true } });
    // the worker's proof of contact (fencing) echoes the heartbeat's send time, ms past 2^32 included
    expect(overTheWire({ kind: 'heartbeatAck', sentAtMs: 1_893_456_000_123 })).toMatchObject({ payload: 'heartbeatAck', heartbeatAck: { sentAtMs: 1_893_456_000_123 } });
  });
});
