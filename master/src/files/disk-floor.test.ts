import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskFloor, type DiskSpace } from './disk-floor.js';
import { FileStore } from './file-store.js';

const GI = 1024 ** 3;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake statfs: the test says how much room there is. */
function fakeDisk(space: DiskSpace): { read: () => Promise<DiskSpace>; space: DiskSpace } {
  return { space, read: async () => ({ ...space }) };
}

describe('the free-space floor', () => {
  it('refuses below a size floor as storage_full naming the floor, and lets through above it', async () => {
    const disk = fakeDisk({ availableBytes: 2 * GI, totalBytes: 100 * GI });
    let now = 0;
    const floor = new DiskFloor('/data', { bytes: GI }, disk.read, () => now);
    await expect(floor.check('the output upload of attempt a1')).resolves.toBeUndefined();
    disk.space.availableBytes = GI / 2;
    now += 1000; // statfs is read again after a second
    await expect(floor.check('the output upload of attempt a1')).rejects.toMatchObject({
      code: 'storage_full',
      message: expect.stringMatching(/^master storage full: the output upload of attempt a1 refused: 536870912 bytes free, below the floor of 1073741824 bytes \(WHARF_MIN_FREE_DISK=1073741824 bytes\)/),
    });
    expect(await floor.bytes()).toBe(GI);
  });

  it('takes a share of the filesystem, and no floor refuses nothing', async () => {
    const disk = fakeDisk({ availableBytes: 4 * GI, totalBytes: 100 * GI });
    await expect(new DiskFloor('/data', { percent: 5 }, disk.read).check('x')).rejects.toMatchObject({ code: 'storage_full' });
    expect(await new DiskFloor('/data', { percent: 5 }, disk.read).bytes()).toBe(5 * GI);
    await expect(new DiskFloor('/data', undefined, disk.read).check('x')).resolves.toBeUndefined();
  });

  it('makes the file store refuse a new upload below the floor, before it takes any bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-floor-'));
    dirs.push(dir);
    const store = new FileStore(dir, GI, new DiskFloor(dir, { bytes: GI }, fakeDisk({ availableBytes: 1000, totalBytes: 10 * GI }).read));
    await store.init();
    await expect(store.beginUpload('attempt-1')).rejects.toMatchObject({ code: 'storage_full', message: expect.stringContaining('below the floor') });
    expect(store.stagedAttempts()).toEqual([]);
  });
});
