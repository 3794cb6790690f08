// Downloading a task's output file, checked: the bytes are hashed as they arrive and compared
// with the sha256 the master announces (X-Wharf-Sha256, and the file listing); a file on disk is
// written under a temporary name and renamed into place only when the hash matches, so a
// damaged or partial download never looks like a good one.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from './api-client.js';
import type { FileView } from './api-types.js';
import { CliError } from './errors.js';

export interface Downloaded {
  bytes: number;
  sha256: string;
}

function downloadPath(taskId: string, path: string): string {
  return `/api/files/${encodeURIComponent(taskId)}/download/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** Streams one file into `sink` (stdout) or a file at `target`; rejects on a sha256 or size mismatch. */
export async function downloadFile(client: ApiClient, file: FileView, to: { target: string } | { sink: Writable }): Promise<Downloaded> {
  const response = await client.open('GET', downloadPath(file.taskId, file.path), { idleTimeoutMs: 120_000 });
  const announced = String(response.headers['x-wharf-sha256'] ?? file.sha256);
  if (announced !== file.sha256) {
    response.resume();
    throw new CliError('data_corrupted', `${file.path}: the master announces sha256 ${announced} but lists ${file.sha256}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const check = (): Downloaded => {
    const sha256 = hash.digest('hex');
    if (sha256 !== announced || bytes !== file.size) {
      throw new CliError('data_corrupted', `${file.path}: received ${bytes} bytes with sha256 ${sha256}; expected ${file.size} bytes with sha256 ${announced}`);
    }
    return { bytes, sha256 };
  };
  if ('sink' in to) {
    await pipeline(response, hashing, to.sink, { end: false });
    return check();
  }
  await mkdir(dirname(to.target), { recursive: true });
  const temp = `${to.target}.wharf-part-${process.pid}`;
  try {
    await pipeline(response, hashing, createWriteStream(temp, { mode: 0o644 }));
    const result = check();
    await rename(temp, to.target);
    return result;
  } catch (error: unknown) {
    await rm(temp, { force: true });
    if (error instanceof CliError) throw error;
    throw new CliError('download_failed', `${file.path}: the download broke off (${error instanceof Error ? error.message : String(error)})`);
  }
}
