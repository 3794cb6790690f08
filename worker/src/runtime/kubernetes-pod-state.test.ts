import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readPodState } from './kubernetes-pod-state.js';

const T0 = '2025-01-01T10:00:00Z';
const T1 = '2025-01-01T10:00:05Z';

function pod(status: V1Pod['status'], spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name: 'p' }, spec: { containers: [], ...spec }, status };
}

describe('readPodState', () => {
  it('reads a running task container', () => {
    expect(readPodState(pod({ phase: 'Running', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(T0) } } }] }))).toEqual({
      kind: 'running',
      startedAtMs: Date.parse(T0),
    });
  });

  it('takes the exit code from the task container while the sidecar keeps the pod Running', () => {
    const state = readPodState(
      pod({
        phase: 'Running',
        containerStatuses: [
          { name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error', startedAt: new Date(T0), finishedAt: new Date(T1) } } },
          { name: 'wharf-outputs', image: 'b', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(T0) } } },
        ],
      }),
    );
    expect(state).toEqual({ kind: 'ended', exitCode: 2, startedAtMs: Date.parse(T0), finishedAtMs: Date.parse(T1), reason: 'Error' });
  });

  it('calls a missing executable a start failure, not an exit code', () => {
    const state = readPodState(
      pod({ phase: 'Failed', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 128, reason: 'StartError', message: 'exec: "nope": executable file not found in $PATH' } } }] }),
    );
    expect(state).toMatchObject({ kind: 'pending', fatal: { code: 'start_failed', message: 'cannot start the task container: exec: "nope": executable file not found in $PATH' } });
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])('fails at once on %s', (reason) => {
    const state = readPodState(pod({ phase: 'Pending', containerStatuses: [{ name: 'task', image: 'ghcr.io/x/y:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message: 'not found' } } }] }));
    expect(state).toMatchObject({ kind: 'pending', fatal: { code: 'image_unavailable', message: `cannot pull image "ghcr.io/x/y:1" (container task): ${reason}: not found` } });
  });

  it('keeps waiting (not fatal) while unschedulable or creating, with Kubernetes\' words', () => {
    expect(readPodState(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available' }] }))).toEqual({
      kind: 'pending',
      detail: 'Unschedulable: 0/2 nodes are available',
    });
    expect(readPodState(pod({ phase: 'Pending', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }))).toEqual({
      kind: 'pending',
      detail: 'container task: ContainerCreating',
    });
    expect(readPodState(pod(undefined))).toEqual({ kind: 'pending', detail: 'phase Pending' });
  });

  it('reports a failed input download from the init container\'s termination message', () => {
    const state = readPodState(pod({ phase: 'Failed', initContainerStatuses: [{ name: 'wharf-inputs', image: 'b', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, message: 'input a: cannot download http://x\n' } } }] }));
    expect(state).toEqual({ kind: 'failed', message: 'staging the inputs failed: input a: cannot download http://x' });
  });

  it('turns an eviction into a failure even though the task container was killed with a code', () => {
    const state = readPodState(
      pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] }),
    );
    expect(state).toEqual({ kind: 'failed', message: 'the pod was evicted by Kubernetes: The node was low on resource: ephemeral-storage.' });
  });

  it('names the deadline when Kubernetes killed the task at activeDeadlineSeconds, but keeps an earlier exit code', () => {
    const killed = pod(
      { phase: 'Failed', reason: 'DeadlineExceeded', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] },
      { activeDeadlineSeconds: 40 },
    );
    expect(readPodState(killed)).toEqual({ kind: 'failed', message: 'the pod ran past its deadline (activeDeadlineSeconds 40) and Kubernetes stopped it' });
    const endedBefore = pod(
      { phase: 'Failed', reason: 'DeadlineExceeded', containerStatuses: [{ name: 'task', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: new Date(T1) } } }] },
      { activeDeadlineSeconds: 40 },
    );
    expect(readPodState(endedBefore)).toMatchObject({ kind: 'ended', exitCode: 0 });
  });

  it('reads timestamps given as strings (watch events are plain JSON)', () => {
    const raw = { status: { phase: 'Running', containerStatuses: [{ name: 'task', state: { running: { startedAt: T0 } } }] } } as unknown as V1Pod;
    expect(readPodState(raw)).toEqual({ kind: 'running', startedAtMs: Date.parse(T0) });
  });
});
