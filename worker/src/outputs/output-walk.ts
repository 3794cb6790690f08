// Lists what a task left in its output folder: every regular file, recursively, with its path
// relative to the folder in POSIX form. Symlinks and special files (fifos, sockets, devices)
// are not followed or sent; they are listed as skipped so the task's log can say so. Wharf keeps
// names up to 255 bytes and output paths up to 4096 bytes (Linux's limits, checked again by the
// master); a longer one, or one whose path on this worker passes what Linux can open, is listed
// as too long with the reason, so the attempt fails saying so instead of with an internal error.
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

/** Output paths Wharf cannot keep, and why. */
export interface TooLongOutputEntry {
  path: string;
  reason: string;
}

export interface OutputWalk {
  files: OutputFileEntry[];
  skipped: SkippedOutputEntry[];
  tooLong: TooLongOutputEntry[];
}

export const MAX_OUTPUT_NAME_BYTES = 255;
export const MAX_OUTPUT_PATH_BYTES = 4096;
/** Linux's PATH_MAX counts the closing NUL: a path the worker opens has at most 4095 bytes. */
const HOST_PATH_MAX_BYTES = 4095;

export async function walkOutputFiles(root: string): Promise<OutputWalk> {
  const walk: OutputWalk = { files: [], skipped: [], tooLong: [] };
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
  walk.tooLong.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return walk;
}

/** Why Wharf cannot keep this output path, or undefined. */
function tooLongReason(relative: string, absolutePath: string): string | undefined {
  const bytes = Buffer.byteLength(relative, 'utf8');
  if (bytes > MAX_OUTPUT_PATH_BYTES) return `its path is ${bytes} bytes long; Wharf keeps output paths up to ${MAX_OUTPUT_PATH_BYTES} bytes`;
  const name = relative.split('/').find((n) => Buffer.byteLength(n, 'utf8') > MAX_OUTPUT_NAME_BYTES);
  if (name !== undefined) return `it has a name of ${Buffer.byteLength(name, 'utf8')} bytes; Wharf keeps names up to ${MAX_OUTPUT_NAME_BYTES} bytes`;
  const hostBytes = Buffer.byteLength(absolutePath, 'utf8');
  if (hostBytes > HOST_PATH_MAX_BYTES) {
    return `its path on the worker (${hostBytes} bytes with the worker's data folder) passes Linux's limit of ${HOST_PATH_MAX_BYTES} bytes; use a shorter path`;
  }
  return undefined;
}

function isNameTooLong(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENAMETOOLONG';
}

async function visit(root: string, dir: string, walk: OutputWalk): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error: unknown) {
    if (!isNameTooLong(error)) throw error;
    const relative = path.relative(root, dir).split(path.sep).join('/');
    walk.tooLong.push({ path: relative, reason: 'its path on the worker passes what Linux can open; use a shorter path' });
    return;
  }
  for (const entry of entries) {
    const absolutePath = path.join(dir, entry.name);
    const relative = path.relative(root, absolutePath).split(path.sep).join('/');
    const tooLong = tooLongReason(relative, absolutePath);
    if (tooLong !== undefined) {
      walk.tooLong.push({ path: relative, reason: tooLong });
      continue;
    }
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
