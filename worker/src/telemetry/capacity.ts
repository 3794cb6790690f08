// What this machine offers the cluster: cores, memory, NVIDIA GPUs (by device id) and the size of the
// filesystem holding the data dir, each capped by the operator's --cpu/--memory/--gpu/--disk.
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import * as si from 'systeminformation';
import type { Resources__Output } from '@wharf/proto';
import type { WorkerConfig } from '../config/worker-config.js';

const GPU_PROBE_TIMEOUT_MS = 10_000;

/**
 * `gpuIds`: the device ids the operator stated (--gpus); absent = detected. The GPU count offered
 * is how many ids there are, capped by --gpu.
 */
export async function detectCapacity(
  dataDir: string,
  caps: WorkerConfig['capacityCaps'],
  gpuIds?: readonly string[],
): Promise<{ capacity: Resources__Output; gpuIds: string[] }> {
  const [disk, ids] = await Promise.all([filesystemBytes(dataDir), gpuIds ? [...gpuIds] : detectNvidiaGpuIds()]);
  return {
    capacity: {
      cpu: capped(os.availableParallelism(), caps.cpu),
      memory: capped(os.totalmem(), caps.memory),
      gpu: capped(ids.length, caps.gpu),
      disk: capped(disk, caps.disk),
    },
    gpuIds: ids,
  };
}

/** Total bytes of the filesystem that holds `dir`. */
export async function filesystemBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.blocks * stats.bsize;
}

/**
 * The device ids of the NVIDIA GPUs systeminformation sees: their indices "0"…"n-1" in the order
 * it lists them (PCI bus order, as nvidia-smi numbers them by default); none when there are
 * none, or when probing fails or takes too long. A machine where that order is not the driver's
 * states its ids with --gpus.
 */
export async function detectNvidiaGpuIds(): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), GPU_PROBE_TIMEOUT_MS);
    timer.unref();
  });
  const probe = si
    .graphics()
    .then((graphics) => graphics.controllers.filter((c) => /nvidia/i.test(`${c.vendor} ${c.model}`)).map((_c, index) => String(index)))
    .catch((): string[] => []);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function capped(detected: number, cap: number | undefined): number {
  return cap === undefined ? detected : Math.min(detected, cap);
}
