// What this machine offers the cluster: cores, memory, NVIDIA GPUs and the size of the
// filesystem holding the data dir, each capped by the operator's --cpu/--memory/--gpu/--disk.
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import * as si from 'systeminformation';
import type { Resources__Output } from '@wharf/proto';
import type { WorkerConfig } from '../config/worker-config.js';

const GPU_PROBE_TIMEOUT_MS = 10_000;

export async function detectCapacity(dataDir: string, caps: WorkerConfig['capacityCaps']): Promise<Resources__Output> {
  const [disk, gpu] = await Promise.all([filesystemBytes(dataDir), countNvidiaGpus()]);
  return {
    cpu: capped(os.availableParallelism(), caps.cpu),
    memory: capped(os.totalmem(), caps.memory),
    gpu: capped(gpu, caps.gpu),
    disk: capped(disk, caps.disk),
  };
}

/** Total bytes of the filesystem that holds `dir`. */
export async function filesystemBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.blocks * stats.bsize;
}

/** NVIDIA GPUs seen by systeminformation; 0 when none, or when probing fails or takes too long. */
export async function countNvidiaGpus(): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), GPU_PROBE_TIMEOUT_MS);
    timer.unref();
  });
  const probe = si
    .graphics()
    .then((graphics) => graphics.controllers.filter((c) => /nvidia/i.test(`${c.vendor} ${c.model}`)).length)
    .catch(() => 0);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function capped(detected: number, cap: number | undefined): number {
  return cap === undefined ? detected : Math.min(detected, cap);
}
