// Removes a folder and everything in it, however deep. Node's fs.rm (20.x) walks with whole
// paths and gives up with ENAMETOOLONG on a tree deeper than PATH_MAX, which a task can make in
// its /output (one `cd` at a time); rm(1) walks relative to each folder and removes it. Without
// this a task could leave folders the worker never frees.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';

export async function removeTree(folder: string): Promise<void> {
  try {
    await rm(folder, { recursive: true, force: true });
  } catch (error: unknown) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENAMETOOLONG')) throw error;
    await new Promise<void>((resolve, reject) => {
      execFile('rm', ['-rf', '--', folder], (failure) => (failure ? reject(failure) : resolve()));
    });
  }
}
