// The free-space floor of the master's data dir (WHARF_MIN_FREE_DISK: a size such as 1Gi, or a
// share of the filesystem such as 5%). Below it the master refuses new uploads of task outputs
// at their first chunk, as `storage_full` (the path a full disk takes: the worker keeps the
// files and tries again later, the task gets an event saying why), instead of letting the disk
// fill up and a write fail half-way. The SQLite store and logs keep the room left above zero,
// so results and logs still get through. statfs is read at most once a second.
import { statfs } from 'node:fs/promises';
import type { FreeSpaceFloor } from '../config/master-config.js';
import { storageFull } from '../errors.js';

export interface DiskSpace {
  /** bytes free for the master */
  availableBytes: number;
  /** size of the filesystem */
  totalBytes: number;
}

export type ReadDiskSpace = (dir: string) => Promise<DiskSpace>;

export const readDiskSpace: ReadDiskSpace = async (dir) => {
  const stats = await statfs(dir);
  return { availableBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
};

/** The floor in bytes on a filesystem of `totalBytes`. */
export function floorBytes(floor: FreeSpaceFloor, totalBytes: number): number {
  return 'bytes' in floor ? floor.bytes : Math.ceil((totalBytes * floor.percent) / 100);
}

export function describeFloor(floor: FreeSpaceFloor): string {
  return 'bytes' in floor ? `${floor.bytes} bytes` : `${floor.percent}%`;
}

export class DiskFloor {
  private cached: { at: number; space: DiskSpace } | undefined;

  constructor(
    private readonly dir: string,
    readonly floor: FreeSpaceFloor | undefined,
    private readonly read: ReadDiskSpace = readDiskSpace,
    private readonly now: () => number = Date.now,
  ) {}

  /** The floor in bytes on the data dir's filesystem now; 0 without a floor (or when statfs fails). */
  async bytes(): Promise<number> {
    if (!this.floor) return 0;
    const space = await this.space();
    return space ? floorBytes(this.floor, space.totalBytes) : 0;
  }

  /** Throws storage_full when the data dir has less free space than the floor. */
  async check(what: string): Promise<void> {
    if (!this.floor) return;
    const space = await this.space();
    if (!space) return; // cannot tell: the write itself will say if there is no room
    const floor = floorBytes(this.floor, space.totalBytes);
    if (space.availableBytes >= floor) return;
    throw storageFull(
      `${what} refused: ${space.availableBytes} bytes free, below the floor of ${floor} bytes (WHARF_MIN_FREE_DISK=${describeFloor(this.floor)})`,
    );
  }

  private async space(): Promise<DiskSpace | undefined> {
    const at = this.now();
    if (this.cached && at - this.cached.at < 1000) return this.cached.space;
    try {
      const space = await this.read(this.dir);
      this.cached = { at, space };
      return space;
    } catch {
      return undefined;
    }
  }
}
