// Registry credentials: sealed at rest, matched to images by registry host, shown without the
// password, and carried by an assignment only when its image's registry needs them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import type { User } from '../records/user.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { HARNESS_USER, TaskHarness } from '../tasks/testing/harness.js';
import { normaliseRegistry, registryOfImage } from './image-registry.js';
import { RegistryCredentialService } from './registry-credential-service.js';
import { SecretBox } from './secret-box.js';

const ada: User = { id: 'u-ada', email: 'ada@example.com', name: 'Ada', role: 'user', createdAt: 0 };
const bob: User = { id: 'u-bob', email: 'bob@example.com', name: 'Bob', role: 'user', createdAt: 0 };
const admin: User = { id: 'u-admin', email: 'admin@example.com', name: 'Admin', role: 'admin', createdAt: 0 };

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SecretBox', () => {
  it('opens what it sealed, and nothing sealed for another owner or with another key', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('hunter2-password', 'ada\nghcr.io');
    expect(JSON.stringify(sealed)).not.toContain('hunter2');
    expect(box.open(sealed, 'ada\nghcr.io')).toBe('hunter2-password');
    expect(() => box.open(sealed, 'bob\nghcr.io')).toThrow(/does not decrypt/);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'ada\nghcr.io')).toThrow(/does not decrypt/);
    expect(box.seal('same', 'c').iv).not.toBe(box.seal('same', 'c').iv);
  });
});

describe('registries of images', () => {
  it.each([
    ['busybox', 'docker.io'],
    ['library/busybox:1.36', 'docker.io'],
    ['acme/app', 'docker.io'],
    ['ghcr.io/acme/app:1', 'ghcr.io'],
    ['registry.example:5000/team/app@sha256:' + 'a'.repeat(64), 'registry.example:5000'],
    ['localhost/app', 'localhost'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000'],
    ['index.docker.io/library/busybox', 'docker.io'],
  ])('%s lives on %s', (image, registry) => {
    expect(registryOfImage(image)).toBe(registry);
  });

  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['https://Registry.Example:5000/v2/', 'registry.example:5000'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['[::1]:5000', '[::1]:5000'],
  ])('names %s as %s', (input, registry) => {
    expect(normaliseRegistry(input)).toBe(registry);
  });

  it.each(['', 'not a host', 'http://', 'a_b.example', 'x'.repeat(300)])('refuses %j', (input) => {
    expect(normaliseRegistry(input)).toBeUndefined();
  });
});

async function service() {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-creds-'));
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'wharf.db'));
  closers.push(() => store.close());
  const credentials = new RegistryCredentialService(store, new SecretBox(randomBytes(32)), silentLogger(), () => 1000);
  await credentials.load();
  return { dir, store, credentials };
}

describe('RegistryCredentialService', () => {
  it('keeps the password only sealed, shows it to nobody, and gives it for the matching registry only', async () => {
    const { dir, store, credentials } = await service();
    const shown = await credentials.put(ada, { registry: 'https://Registry.Example:5000/', username: 'ada', password: 'correct-horse-battery' });
    expect(shown).toEqual({ id: shown.id, userId: 'u-ada', registry: 'registry.example:5000', username: 'ada', createdAt: 1000 });
    expect(JSON.stringify(await credentials.list(ada))).not.toContain('correct-horse');
    await store.close();
    for (const file of ['wharf.db', 'wharf.db-wal']) {
      let bytes = '';
      try {
        bytes = readFileSync(join(dir, file)).toString('latin1');
      } catch {
        continue;
      }
      expect(bytes).not.toContain('correct-horse-battery');
    }
  });

  it('answers credentials for a task of the owner whose image is on that registry, and nothing otherwise', async () => {
    const { credentials } = await service();
    await credentials.put(ada, { registry: 'registry.example:5000', username: 'ada', password: 'pw-1' });
    await expect(credentials.credentialsFor({ userId: 'u-ada', image: 'registry.example:5000/team/app:1' })).resolves.toEqual({
      serverAddress: 'registry.example:5000',
      username: 'ada',
      password: 'pw-1',
    });
    expect(credentials.credentialsFor({ userId: 'u-ada', image: 'ghcr.io/team/app:1' })).toBeUndefined();
    expect(credentials.credentialsFor({ userId: 'u-bob', image: 'registry.example:5000/team/app:1' })).toBeUndefined();
    expect(credentials.credentialsFor({ userId: 'u-ada', image: 'busybox' })).toBeUndefined();
  });

  it('replaces a user\'s credentials for the same registry, and lets only the owner or an admin delete them', async () => {
    const { credentials } = await service();
    const first = await credentials.put(ada, { registry: 'ghcr.io', username: 'old', password: 'a' });
    const second = await credentials.put(ada, { registry: 'ghcr.io', username: 'new', password: 'b' });
    expect(second.id).toBe(first.id);
    expect((await credentials.list(ada)).map((c) => c.username)).toEqual(['new']);
    await expect(credentials.remove(bob, first.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(credentials.list(bob, true)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await credentials.list(admin, true)).map((c) => c.id)).toEqual([first.id]);
    await credentials.remove(admin, first.id);
    expect(credentials.credentialsFor({ userId: 'u-ada', image: 'ghcr.io/x/y' })).toBeUndefined();
  });

  it('refuses a registry that is not an address, naming the field', async () => {
    const { credentials } = await service();
    await expect(credentials.put(ada, { registry: 'my registry', username: 'a', password: 'b' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/^registry: "my registry" is not a registry address/),
    });
  });
});

describe('assignments and registry credentials', () => {
  it('carry the owner\'s credentials only for an image on that registry', async () => {
    const harness = await TaskHarness.start();
    closers.push(() => harness.close());
    const credentials = new RegistryCredentialService(harness.store, new SecretBox(randomBytes(32)), silentLogger());
    await credentials.load();
    harness.tasks.useRegistryCredentials(credentials);
    await credentials.put(HARNESS_USER, { registry: 'registry.example:5000', username: 'ada', password: 'pw' });
    await harness.connectWorker('w-1');
    const privateTask = await harness.submit({ image: 'registry.example:5000/team/app:1' });
    const publicTask = await harness.submit({ image: 'wharf/busybox:latest' });
    await harness.settle();
    await new Promise((r) => setImmediate(r)); // the credentials are read before the assignment goes
    await harness.settle();
    expect(harness.assignmentOf('w-1', privateTask.id).registryAuth).toEqual({ serverAddress: 'registry.example:5000', username: 'ada', password: 'pw' });
    expect(harness.assignmentOf('w-1', publicTask.id).registryAuth).toBeUndefined();
  });
});
