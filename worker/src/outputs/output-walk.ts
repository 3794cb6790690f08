// Lists what a task left in its output folder: every regular file, recursively, with its path
// relative to the folder in POSIX form. Symlinks and special files (fifos, sockets, devices)
// are not followed or sent; they are listed as skipped so the task's log can say so.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface OutputFileEntry {
  /** Relative POSIX path, e.g. "reports/summary.txt". */
  path: string;
  absolutePath: string;
  size: number;
}

export interface SkippedOutputEntry {
  path: string;
  kind: 'symlink' | 'special file';
}

export interface OutputWalk {
  files: OutputFileEntry[];
  skipped: SkippedOutputEntry[];
}

export async function walkOutputFiles(root: string): Promise<OutputWalk> {
  const walk: OutputWalk = { files: [], skipped: [] };
  try {
    const stat = await lstat(root);
    if (!stat.isDirectory()) return walk;
  } catch (error: unknown) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return walk;
    throw error;
  }
  await visit(root, root, walk);
  walk.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  walk.skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return walk;
}

async function visit(root: string, dir: string, walk: OutputWalk): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const absolutePath = path.join(dir, entry.name);
    const relative = path.relative(root, absolutePath).split(path.sep).join('/');
    if (entry.isSymbolicLink()) {
      walk.skipped.push({ path: relative, kind: 'symlink' });
    } else if (entry.isDirectory()) {
      await visit(root, absolutePath, walk);
    } else if (entry.isFile()) {
      const stat = await lstat(absolutePath);
      walk.files.push({ path: relative, absolutePath, size: stat.size });
    } else {
      walk.skipped.push({ path: relative, kind: 'special file' });
    }
  }
}
