// Reads a pod's status as the kubernetes runtime needs it: has the task container started,
// has it ended (exit code), or did Kubernetes give up on the pod (pull error, eviction, init
// failure, deadline). Pure, unit-tested beside it.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { INPUTS_CONTAINER, TASK_CONTAINER } from './kubernetes-pod-spec.js';

export type PodState =
  /** Not running yet; `detail` is the reason Kubernetes gives; `fatal` when waiting cannot help. */
  | { kind: 'pending'; detail: string; fatal?: { code: 'image_unavailable' | 'start_failed'; message: string } }
  | { kind: 'running'; startedAtMs: number }
  | { kind: 'ended'; exitCode: number; startedAtMs: number; finishedAtMs: number; reason: string }
  /** The pod failed as a whole: evicted, past its deadline, inputs not staged, or deleted by someone. */
  | { kind: 'failed'; message: string };

const PULL_ERRORS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
/** Terminated reasons that mean the process never ran (a missing executable, a bad mount). */
const START_ERRORS = new Set(['StartError', 'ContainerCannotRun']);

export function readPodState(pod: V1Pod): PodState {
  const status = pod.status ?? {};
  if (status.reason === 'Evicted') {
    return { kind: 'failed', message: `the pod was evicted by Kubernetes: ${status.message ?? 'no reason given'}` };
  }
  const task = status.containerStatuses?.find((c) => c.name === TASK_CONTAINER);
  const terminated = task?.state?.terminated;
  if (terminated) {
    if (START_ERRORS.has(terminated.reason ?? '')) {
      return {
        kind: 'pending',
        detail: terminated.reason ?? 'StartError',
        fatal: { code: 'start_failed', message: `cannot start the task container: ${terminated.message ?? terminated.reason}` },
      };
    }
    if (status.reason === 'DeadlineExceeded' && (terminated.exitCode === 137 || terminated.exitCode === 143)) {
      // killed by the deadline (a task that ended before it keeps its own exit code)
      return { kind: 'failed', message: podFailureMessage(pod) };
    }
    const finishedAtMs = timeOf(terminated.finishedAt) ?? Date.now();
    return {
      kind: 'ended',
      exitCode: terminated.exitCode,
      startedAtMs: timeOf(terminated.startedAt) ?? finishedAtMs,
      finishedAtMs,
      reason: terminated.reason ?? '',
    };
  }
  if (task?.state?.running) {
    return { kind: 'running', startedAtMs: timeOf(task.state.running.startedAt) ?? Date.now() };
  }
  if (status.phase === 'Failed' || status.phase === 'Succeeded') {
    return { kind: 'failed', message: podFailureMessage(pod) };
  }
  return pendingState(pod);
}

function pendingState(pod: V1Pod): PodState {
  const status = pod.status ?? {};
  const statuses: V1ContainerStatus[] = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const container of statuses) {
    const waiting = container.state?.waiting;
    if (waiting && PULL_ERRORS.has(waiting.reason ?? '')) {
      const message = `cannot pull image "${container.image}" (container ${container.name}): ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      return { kind: 'pending', detail: message, fatal: { code: 'image_unavailable', message } };
    }
  }
  const init = status.initContainerStatuses?.find((c) => c.name === INPUTS_CONTAINER);
  const initEnded = init?.state?.terminated;
  if (initEnded && initEnded.exitCode !== 0) {
    const message = `staging the inputs failed: ${(initEnded.message ?? '').trim() || `exit code ${initEnded.exitCode}`}`;
    return { kind: 'pending', detail: message, fatal: { code: 'start_failed', message } };
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return { kind: 'pending', detail: `${scheduled.reason ?? 'not scheduled'}: ${scheduled.message ?? 'no node accepts the pod'}` };
  }
  for (const container of statuses) {
    const waiting = container.state?.waiting;
    if (waiting?.reason) {
      return { kind: 'pending', detail: `container ${container.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
    }
  }
  return { kind: 'pending', detail: `phase ${status.phase ?? 'Pending'}` };
}

function podFailureMessage(pod: V1Pod): string {
  const status = pod.status ?? {};
  if (status.reason === 'DeadlineExceeded') {
    return `the pod ran past its deadline (activeDeadlineSeconds ${pod.spec?.activeDeadlineSeconds ?? '?'}) and Kubernetes stopped it`;
  }
  const pending = pendingState(pod);
  if (pending.kind === 'pending' && pending.fatal) return pending.fatal.message;
  const why = [status.reason, status.message].filter((s) => s !== undefined && s !== '').join(': ');
  return `the pod ended (${status.phase}) before the task container ran${why ? `: ${why}` : ''}`;
}

function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
