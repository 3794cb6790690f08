// The one atomic-write helper of master and worker: the bytes go to a temporary file beside the
// target, are synced, and replace the target with a rename, so a reader (or the process after a
// crash) sees the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error: unknown) {
    await rm(tmp, { force: true });
    throw error;
  }
}
