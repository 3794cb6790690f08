// What the master received for an attempt, kept on disk so a master restart between an upload
// and its result still knows the digests it computed (they are what the task's files show).
//
// <data>/files/.received/<attemptId>.jsonl: one JSON line per event, appended in one write
// each: `{"file": {path, size, sha256, ino, mtimeMs}}` when a file arrived whole (the later
// line for a path wins) and `{"refused": reason}` when the attempt passed its cap. A line
// torn by a crash is skipped. Loading checks every line against the staged bytes: a file
// whose size, inode or mtime differs from its line (or that has no line: the crash came
// between the rename and the append) is hashed again from the staged bytes, and a line whose
// file is gone is dropped. So the manifest only saves work; it never decides alone.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReceivedFile } from './output-ledger.js';
import { normaliseOutputPath } from './output-paths.js';

/** Identifies the staged bytes a line was written for (a rename keeps inode and mtime). */
export interface StagedIdentity {
  ino: number;
  mtimeMs: number;
}

interface FileLine extends ReceivedFile, StagedIdentity {}

export async function recordReceivedFile(manifest: string, file: ReceivedFile, identity: StagedIdentity): Promise<void> {
  const line: { file: FileLine } = { file: { path: file.path, size: file.size, sha256: file.sha256, ino: identity.ino, mtimeMs: identity.mtimeMs } };
  await appendFile(manifest, `${JSON.stringify(line)}\n`, { mode: 0o600 });
}

export async function recordRefusal(manifest: string, reason: string): Promise<void> {
  await appendFile(manifest, `${JSON.stringify({ refused: reason })}\n`, { mode: 0o600 });
}

/** The files staged for an attempt with their digests, and its refusal if any (see the top of this file). */
export async function loadReceived(stagingDir: string, manifest: string): Promise<{ files: ReceivedFile[]; refusal: string | undefined }> {
  const lines = new Map<string, FileLine>();
  let refusal: string | undefined;
  const text = await readFile(manifest, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  });
  for (const raw of text.split('\n')) {
    const line = parseLine(raw);
    if (line && 'refused' in line) refusal ??= line.refused;
    else if (line) lines.set(line.file.path, line.file);
  }
  const files: ReceivedFile[] = [];
  for (const path of await stagedPaths(stagingDir)) {
    const full = join(stagingDir, ...path.split('/'));
    const stats = await lstat(full);
    const line = lines.get(path);
    if (line && line.size === stats.size && line.ino === stats.ino && line.mtimeMs === stats.mtimeMs) {
      files.push({ path, size: line.size, sha256: line.sha256 });
    } else {
      files.push({ path, size: stats.size, sha256: await sha256Of(full) });
    }
  }
  return { files, refusal };
}

function parseLine(raw: string): { file: FileLine } | { refused: string } | undefined {
  if (raw.trim() === '') return undefined;
  try {
    const value = JSON.parse(raw) as { file?: Partial<FileLine>; refused?: unknown };
    if (typeof value.refused === 'string') return { refused: value.refused };
    const f = value.file;
    if (
      f &&
      typeof f.path === 'string' &&
      typeof f.size === 'number' &&
      typeof f.sha256 === 'string' &&
      typeof f.ino === 'number' &&
      typeof f.mtimeMs === 'number'
    ) {
      return { file: { path: f.path, size: f.size, sha256: f.sha256, ino: f.ino, mtimeMs: f.mtimeMs } };
    }
  } catch {
    // a line torn by a crash: the file it names is hashed again
  }
  return undefined;
}

/** Relative paths ("a/b.txt") of the regular files under a staging folder (none when it does not exist). */
async function stagedPaths(dir: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, ...prefix.split('/').filter(Boolean)), { withFileTypes: true });
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const paths: string[] = [];
  for (const entry of entries) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) paths.push(...(await stagedPaths(dir, path)));
    else if (entry.isFile() && isOutputPath(path)) paths.push(path);
  }
  return paths;
}

function isOutputPath(path: string): boolean {
  try {
    return normaliseOutputPath(path) === path;
  } catch {
    return false;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
