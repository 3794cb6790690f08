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

export const ZERO_RESOURCES: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };
