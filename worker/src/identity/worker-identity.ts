// The worker's stable id: kept in <dataDir>/worker-id (mode 0600), created on first start.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Reads the worker id from dataDir, creating it on first start. */
export async function loadOrCreateWorkerId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'worker-id');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (ID_PATTERN.test(existing)) return existing;
    throw new Error(`${file} does not hold a valid worker id; remove it to get a new one`);
  } catch (error: unknown) {
    if (!isNotFound(error)) throw error;
  }
  const id = randomUUID();
  try {
    // 'wx': if another process created the file meanwhile, keep theirs.
    await writeFile(file, `${id}\n`, { mode: 0o600, flag: 'wx' });
    return id;
  } catch (error: unknown) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
      return (await readFile(file, 'utf8')).trim();
    }
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
