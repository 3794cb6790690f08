// Artifacts on the master's disk: <dataDir>/artifacts/<2 hex>/<2 hex>/<sha256>, read-only.
// Bytes arrive in <dataDir>/artifacts/.tmp/, are verified, fsynced and renamed into place; a
// file already on the same disk (a task's uploaded output) is verified and hard-linked.
// Workers fetch them from the master (gRPC FetchArtifact), so this backend has no presigned
// URLs.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { notFound } from '../errors.js';
import {
  assertArtifactRef,
  assertSha256,
  isStream,
  SHA256_HEX,
  verifyFile,
  writeVerifiedFile,
  type ArtifactBackend,
  type ArtifactRef,
  type ArtifactSource,
  type StoredArtifact,
} from './artifact-backend.js';

export class DiskArtifactBackend implements ArtifactBackend {
  readonly kind = 'disk' as const;
  private readonly root: string;
  private readonly tmpDir: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'artifacts');
    this.tmpDir = path.join(this.root, '.tmp');
  }

  async init(): Promise<void> {
    // what was being received when the master stopped is never complete: drop it
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  async put(expected: ArtifactRef, source: ArtifactSource): Promise<ArtifactRef> {
    assertArtifactRef(expected);
    const tmp = path.join(this.tmpDir, `${expected.sha256}-${randomBytes(6).toString('hex')}`);
    try {
      if (isStream(source) || !(await linkVerified(source.path, tmp, expected))) await writeVerifiedFile(source, tmp, expected);
      await chmod(tmp, 0o444);
      const final = this.pathOf(expected.sha256);
      await mkdir(path.dirname(final), { recursive: true });
      // same digest, same bytes: replacing an existing copy is harmless and keeps put idempotent
      await rename(tmp, final);
    } catch (error: unknown) {
      await rm(tmp, { force: true });
      throw error;
    }
    return { sha256: expected.sha256, size: expected.size };
  }

  async stat(sha256: string): Promise<ArtifactRef | undefined> {
    assertSha256(sha256);
    const stats = await stat(this.pathOf(sha256)).catch(() => undefined);
    return stats?.isFile() ? { sha256, size: stats.size } : undefined;
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  async get(sha256: string): Promise<{ stream: ReturnType<typeof createReadStream>; size: number }> {
    const found = await this.stat(sha256);
    if (!found) throw notFound(`artifact ${sha256}`);
    return { stream: createReadStream(this.pathOf(sha256)), size: found.size };
  }

  async delete(sha256: string): Promise<void> {
    assertSha256(sha256);
    await rm(this.pathOf(sha256), { force: true });
  }

  async *list(): AsyncIterable<StoredArtifact> {
    for (const a of await readdir(this.root).catch(() => [])) {
      if (!/^[a-f0-9]{2}$/.test(a)) continue; // .tmp and anything else
      for (const b of await readdir(path.join(this.root, a)).catch(() => [])) {
        for (const sha256 of await readdir(path.join(this.root, a, b)).catch(() => [])) {
          if (!SHA256_HEX.test(sha256)) continue;
          const stats = await stat(path.join(this.root, a, b, sha256)).catch(() => undefined);
          if (stats?.isFile()) yield { sha256, size: stats.size, storedAt: stats.mtimeMs };
        }
      }
    }
  }

  /** The file of a stored artifact (for a same-host worker or a hard link); check exists() first. */
  pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }
}

/**
 * A file already on the master's disk (an uploaded task output) becomes an artifact by a hard
 * link after one verifying read, so its bytes are not copied. False when linking is not
 * possible (another file system): the caller copies instead.
 */
async function linkVerified(file: string, tmp: string, expected: ArtifactRef): Promise<boolean> {
  await verifyFile(file, expected);
  try {
    await link(file, tmp);
    return true;
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP') return false;
    throw error;
  }
}
