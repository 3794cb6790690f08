// A worker as stored: what it is. Live facts (reservations, usage, its channel) live in the
// registry (cluster/worker-registry.ts). (Records: the ground floor; they import only each other.)
import type { Resources, Runtime } from './resources.js';

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

export interface WorkerRecord {
  id: string;
  name: string;
  hostname: string;
  status: WorkerStatus;
  runtimes: Runtime[];
  labels: Record<string, string>;
  capacity: Resources;
  /**
   * The worker's GPU device ids (its --gpus flag, or detected); absent or empty: it offers
   * capacity.gpu as a count only. The master assigns attempts ids from these (Attempt.gpuIds).
   */
  gpuIds?: string[] | undefined;
  /**
   * Where other workers reach this worker's gang members (host or IP, no port): its
   * --advertise-address, else the address its Register call came from. Absent on records of
   * workers registered before gangs.
   */
  address?: string | undefined;
  version: string;
  registeredAt: number;
  lastHeartbeatAt: number;
  /** The bound the worker applies when it loses the master (cluster/worker-fencing.ts); absent for records of workers that declared none. */
  fencing?: WorkerFencing | undefined;
  /** the certificate the worker authenticates with (absent: enrolled before certificates existed) */
  certificate?: WorkerCertificateRef | undefined;
  /**
   * A renewed certificate the master issued but the worker has not used yet. Both are accepted
   * until the worker presents the new one; then it becomes `certificate` and the old one is
   * refused. (A lost renewal answer thus never locks a worker out.)
   */
  pendingCertificate?: WorkerCertificateRef | undefined;
}

/**
 * A worker stops its attempts once it has had no contact with the master for stopAfterMs,
 * giving each stopGraceMs between SIGTERM and SIGKILL.
 */
export interface WorkerFencing {
  stopAfterMs: number;
  stopGraceMs: number;
}
