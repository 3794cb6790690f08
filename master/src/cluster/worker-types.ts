import type { Resources, Runtime } from '../tasks/task-types.js';

export type WorkerStatus = 'ready' | 'draining' | 'lost';

export interface WorkerUsage {
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  gpuPercent?: number | undefined;
}

/** A worker as stored: what it is. Live facts (reservations, usage) live in the registry. */
export interface WorkerRecord {
  id: string;
  name: string;
  hostname: string;
  status: WorkerStatus;
  runtimes: Runtime[];
  labels: Record<string, string>;
  capacity: Resources;
  version: string;
  registeredAt: number;
  lastHeartbeatAt: number;
}
