// Resources and runtimes: what a task asks for and what a worker offers. (Records: the ground
// floor; they import only each other.)

/**
 * docker: a container; exec: a host process (admins only by default); sim: completes at once
 * without running anything, offered only by simulated workers (benchmarks, load tests).
 */
export type Runtime = 'docker' | 'kubernetes' | 'exec' | 'sim';
export const RUNTIMES: readonly Runtime[] = ['docker', 'kubernetes', 'exec', 'sim'];

export interface Resources {
  /** cores */
  cpu: number;
  /** bytes */
  memory: number;
  gpu: number;
  /** bytes */
  disk: number;
}

/**
 * What a submission asks for. An absent cpu, memory or disk takes the configured default and
 * every amount is held to the configured minimum and maximum (tasks/task-limits.ts); gpu
 * defaults to 0.
 */
export interface ResourceRequest {
  cpu?: number | undefined;
  memory?: number | undefined;
  gpu?: number | undefined;
  disk?: number | undefined;
}

export const ZERO_RESOURCES: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };

/** The bounds of one amount a task asks for (WHARF_TASK_MIN_*, _DEFAULT_*, _MAX_*). */
export interface ResourceLimit {
  min: number;
  default: number;
  /** undefined = no maximum beyond what a worker offers */
  max?: number | undefined;
}

/** What a task gets when it names no amount, and the bounds of a non-admin's request (tasks/task-limits.ts). */
export interface TaskLimits {
  /** cores */
  cpu: ResourceLimit;
  /** bytes */
  memory: ResourceLimit;
  /** bytes of writable space (0 = not watched) */
  disk: ResourceLimit;
}

export const DEFAULT_TASK_LIMITS: TaskLimits = {
  cpu: { min: 0.01, default: 0.5 },
  memory: { min: 6 * 1024 * 1024, default: 256 * 1024 * 1024 },
  disk: { min: 0, default: 0 },
};
