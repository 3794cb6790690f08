import type { Resources, Runtime } from '../tasks/task-types.js';

export type WorkerStatus = 'ready' | 'draining' | 'lost';

export interface WorkerUsage {
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  gpuPercent?: number | undefined;
}

/** A worker certificate the master issued, as the worker record keeps it. */
export interface WorkerCertificateRef {
  /** SHA-256 of the certificate's DER, upper-case hex with colons (as node:tls prints it) */
  fingerprint256: string;
  serial: string;
  notAfter: number;
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
  /** the certificate the worker authenticates with (absent: enrolled before certificates existed) */
  certificate?: WorkerCertificateRef | undefined;
  /**
   * A renewed certificate the master issued but the worker has not used yet. Both are accepted
   * until the worker presents the new one; then it becomes `certificate` and the old one is
   * refused. (A lost renewal answer thus never locks a worker out.)
   */
  pendingCertificate?: WorkerCertificateRef | undefined;
}
