import { mkdtempSync } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { describeArtifactBackendConformance, refOf } from './artifact-backend.conformance.js';
import { DiskArtifactBackend } from './disk-artifact-backend.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wharf-disk-artifacts-'));
  dirs.push(dir);
  return dir;
}

describeArtifactBackendConformance('disk', async () => {
  const backend = new DiskArtifactBackend(dataDir());
  await backend.init();
  return backend;
});

describe('DiskArtifactBackend', () => {
  it('keeps artifacts read-only under <data>/artifacts/<2>/<2>/<sha256> and leaves no temp files', async () => {
    const dir = dataDir();
    const backend = new DiskArtifactBackend(dir);
    await backend.init();
    const a = refOf('bytes on disk');
    await backend.put(a, Readable.from([a.bytes]));
    const file = path.join(dir, 'artifacts', a.sha256.slice(0, 2), a.sha256.slice(2, 4), a.sha256);
    expect(backend.pathOf(a.sha256)).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    await backend.put(refOf('other'), Readable.from([Buffer.from('wrong')])).catch(() => undefined);
    expect(await readdir(path.join(dir, 'artifacts', '.tmp'))).toEqual([]);
  });

  it('hard-links a verified file from the same disk instead of copying it', async () => {
    const dir = dataDir();
    const backend = new DiskArtifactBackend(dir);
    await backend.init();
    const a = refOf('an uploaded output');
    const output = path.join(dir, 'output.txt');
    await writeFile(output, a.bytes);
    await backend.put(a, { path: output });
    expect((await stat(backend.pathOf(a.sha256))).ino).toBe((await stat(output)).ino);
  });

  it('drops half-received bytes left by a crash when it starts', async () => {
    const dir = dataDir();
    const first = new DiskArtifactBackend(dir);
    await first.init();
    await writeFile(path.join(dir, 'artifacts', '.tmp', 'half'), 'par');
    await new DiskArtifactBackend(dir).init();
    expect(await readdir(path.join(dir, 'artifacts', '.tmp'))).toEqual([]);
  });
});
