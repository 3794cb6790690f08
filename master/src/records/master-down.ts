// What the master tells one worker down its Connect stream, as domain shapes. The domain builds
// these; grpc/master-messages.ts alone turns them into wire messages (toMasterMessage,
// toTaskSpec). (Records: the ground floor; they import only each other.)
import type { Attempt } from './attempt.js';
import type { Task } from './task.js';

export type MasterDown =
  | { kind: 'assign'; assignment: Assignment }
  | { kind: 'cancel'; attemptId: string; reason: string; graceSeconds: number }
  | { kind: 'resultAck'; attemptId: string }
  | { kind: 'drain'; draining: boolean }
  /** a heartbeat counted: the worker's proof of contact (fencing); `sentAtMs` echoes the heartbeat's */
  | { kind: 'heartbeatAck'; sentAtMs: number }
  /**
   * a report could not be stored (`report`: "result" or the event's kind): the worker sends it
   * again on the same stream after at least `retryAfterMs`
   */
  | { kind: 'reportNack'; attemptId: string; report: string; reason: string; retryAfterMs: number };

/** Run this attempt of this task. */
export interface Assignment {
  task: Task;
  attempt: Attempt;
  /** DAG tasks: the artifacts to stage at /input/<name>; absent for a task without inputs */
  inputs?: AssignedInput[] | undefined;
  /** S3 artifact backend: declared outputs the worker PUTs straight into the object store */
  directOutputs?: readonly string[] | undefined;
  /** the task owner's stored credentials for the image's registry, when there are any */
  registryAuth?: RegistryAuth | undefined;
}

/** Credentials for pulling from one registry (sent only inside the assignment that needs them). */
export interface RegistryAuth {
  /** host[:port]; "docker.io" for Docker Hub */
  serverAddress: string;
  username: string;
  password: string;
}

/** One input of an assignment and where the worker gets it. */
export interface AssignedInput {
  name: string;
  sha256: string;
  size: number;
  /** a presigned GET URL (S3); absent: the worker fetches it from the master (FetchArtifact) */
  url?: string | undefined;
}
