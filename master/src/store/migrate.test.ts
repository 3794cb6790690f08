// The store migration, on real SQLite files (always) and into a real MongoDB server (when
// WHARF_TEST_MONGO_URL is set). It fills a source through the Store contract the way a master
// would, migrates, and compares everything a master can read back.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gang } from '../records/gang.js';
import type { UserWithPassword } from '../records/user.js';
import type { WorkerRecord } from '../records/worker.js';
import { migrateStore, type KindCounts, type RecordKind } from './migrate.js';
import { MongoStore } from './mongo-store.js';
import { SqliteStore } from './sqlite-store.js';
import { mockApiToken, mockAttempt, mockDag, mockRegistryCredential, mockTask } from './store.conformance.js';
import type { Store } from './store.js';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-migrate-'));
  dirs.push(dir);
  return dir;
}

function user(email: string, role: 'admin' | 'user' = 'user'): UserWithPassword {
  return { id: randomUUID(), email, name: email.split('@')[0]!, role, createdAt: Date.now(), passwordHash: `scrypt$salt$${email}` };
}

function worker(id: string, labels: Record<string, string> = {}): WorkerRecord {
  return {
    id,
    name: id,
    hostname: `${id}.local`,
    status: 'ready',
    runtimes: ['docker', 'exec'],
    labels,
    capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 0 },
    version: '0.1.0',
    registeredAt: 1,
    lastHeartbeatAt: 2,
  };
}

/** A small but complete master history: every record kind, finished and unfinished tasks. */
async function fillSource(store: Store): Promise<{ finishedTaskId: string; queuedTaskId: string; runningDagId: string }> {
  const alice = user('alice@example.com');
  await store.insertUser(user('admin@wharf.local', 'admin'));
  await store.insertUser(alice);
  await store.saveWorker(worker('w-1', { 'app.kubernetes.io/zone': 'a' }));
  await store.saveWorker({ ...worker('w-2'), status: 'lost' });
  const base = Date.now();
  // 450 tasks: more than two pages of the migration's page size
  const tasks = Array.from({ length: 450 }, (_, i) =>
    mockTask({ userId: alice.id, createdAt: base + i, name: `t${i}`, labels: { 'team.example/name': 'x' }, env: { A: String(i) } }),
  );
  await store.commit(tasks.map((task) => ({ kind: 'insertTask' as const, task })));
  const finished = tasks[0]!;
  const first = mockAttempt(finished, { workerId: 'w-2' });
  const second = mockAttempt(finished, { number: 2, workerId: 'w-1' });
  await store.commit([
    { kind: 'insertAttempt', attempt: first },
    { kind: 'updateTask', taskId: finished.id, expectStatus: ['queued'], patch: { status: 'assigned', currentAttemptId: first.id, workerId: 'w-2' } },
    { kind: 'appendEvent', event: { taskId: finished.id, at: 1, kind: 'assigned', message: 'to w-2', attemptId: first.id } },
  ]);
  await store.commit([
    { kind: 'updateAttempt', attemptId: first.id, patch: { status: 'lost', error: 'worker lost' } },
    { kind: 'insertAttempt', attempt: second },
    { kind: 'updateTask', taskId: finished.id, patch: { status: 'assigned', currentAttemptId: second.id, workerId: 'w-1', reason: 'retry' } },
    { kind: 'appendEvent', event: { taskId: finished.id, at: 2, kind: 'lost', message: 'w-2 went silent' } },
  ]);
  await store.commit([
    { kind: 'updateAttempt', attemptId: second.id, patch: { status: 'succeeded', exitCode: 0, finishedAt: 9 } },
    { kind: 'updateTask', taskId: finished.id, patch: { status: 'succeeded', exitCode: 0, finishedAt: 9, reason: undefined } },
    { kind: 'appendEvent', event: { taskId: finished.id, at: 3, kind: 'succeeded', message: 'exit 0', attemptId: second.id } },
    {
      kind: 'replaceTaskFiles',
      taskId: finished.id,
      files: ['numbers.txt', 'deep/dir/b.bin'].map((path) => ({
        taskId: finished.id,
        userId: alice.id,
        attemptId: second.id,
        path,
        size: 3,
        sha256: 'ab'.repeat(32),
        createdAt: 9,
      })),
    },
  ]);
  // DAG runs: one that ended (its task is the finished one, with an artifact) and one running
  const ended = mockDag({
    userId: alice.id,
    name: 'etl',
    createdAt: base,
    status: 'succeeded',
    finishedAt: base + 9,
    version: 4,
    tasks: [{ name: 'a', state: 'succeeded', taskId: finished.id, finishedAt: base + 9, artifacts: [{ name: 'numbers.txt', sha256: 'ab'.repeat(32), size: 3 }] }],
  });
  const running = mockDag({ userId: alice.id, name: 'train', createdAt: base + 1, tasks: [{ name: 'a', state: 'queued', taskId: tasks[449]!.id }] });
  await store.commit([
    { kind: 'insertDag', dag: ended },
    { kind: 'insertDag', dag: running },
  ]);
  // a gang of two of the queued tasks, pending
  const gang: Gang = {
    id: 'gang-1', name: 'ddp', userId: alice.id, size: 2, status: 'pending', policy: 'restartGang', timeoutSeconds: 60, maxRestarts: 3, restartsUsed: 0,
    memberIds: [tasks[447]!.id, tasks[448]!.id], port: 29500, createdAt: base, waitingSince: base, version: 1,
  };
  await store.commit([{ kind: 'insertGang', gang }]);
  // API tokens: one used and expiring, one never used
  await store.insertApiToken(mockApiToken({ userId: alice.id, name: 'ci', createdAt: base, expiresAt: base + 86_400_000, lastUsedAt: base + 5 }));
  await store.insertApiToken(mockApiToken({ userId: alice.id, name: 'laptop', createdAt: base + 1 }));
  const token = { secretHash: 'ab'.repeat(32), description: '', createdBy: 'admin@example.com', createdAt: base, uses: 0 };
  await store.insertJoinToken({ ...token, id: 'wharf_start1', startToken: true, uses: 4, lastUsedAt: base + 2 });
  await store.insertJoinToken({ ...token, id: 'wharf_rack04', description: 'rack 4', usageLimit: 2, expiresAt: base + 3600_000 });
  await store.revokeCertificate({ fingerprint256: 'AA:BB', serial: '01', workerId: 'w-gone', revokedAt: base, notAfter: base + 1, reason: 'worker removed by admin@example.com' });
  // registry credentials: sealed passwords, copied as they are
  await store.putRegistryCredential(mockRegistryCredential({ userId: alice.id, registry: 'ghcr.io', createdAt: base }));
  // user administration: an invite used, one open; a session ended; the audit trail
  const invite = { codeHash: 'cd'.repeat(32), role: 'user' as const, createdBy: alice.id, createdAt: base, expiresAt: base + 86_400_000 };
  await store.insertInvite({ ...invite, id: 'inv-used', email: 'used@example.com', usedAt: base + 1, usedBy: alice.id });
  await store.insertInvite({ ...invite, id: 'inv-open', email: 'open@example.com', codeHash: 'ce'.repeat(32) });
  await store.revokeSession({ sessionId: 'session-1', userId: alice.id, revokedAt: base, expiresAt: base + 3600_000 });
  for (let i = 0; i < 250; i += 1) {
    await store.appendAudit({ id: `audit-${String(i).padStart(3, '0')}`, at: base + Math.floor(i / 3), userId: alice.id, address: '127.0.0.1', action: 'task.submit', outcome: 'ok', status: 201 });
  }

  // queues and user limits: one queue with caps, alice's limits in it and across queues
  await store.insertQueue({
    name: 'gpu-train', maxGpus: 64, maxConcurrency: 8, defaultPriority: 70, preemptionPolicy: 'PreemptLowerPriority', strategy: 'binpack',
    workerSelector: { pool: 'gpu' }, constraints: [{ key: 'zone', op: 'in', values: ['a', 'b'] }], createdAt: base, updatedAt: base,
  });
  await store.putUserLimit({ userId: alice.id, queue: 'gpu-train', maxRunning: 4, weight: 3, updatedAt: base });
  await store.putUserLimit({ userId: alice.id, maxCpu: 16, updatedAt: base });
  return { finishedTaskId: finished.id, queuedTaskId: tasks[449]!.id, runningDagId: running.id };
}

/** Everything a master can read from a store, in the store's own order. */
async function dump(store: Store) {
  const users = await Promise.all((await store.listUsers()).map((u) => store.findUserByEmail(u.email)));
  const tasks = [];
  let cursor: string | undefined;
  do {
    const page = await store.listTasks({ limit: 100, cursor });
    tasks.push(...page.tasks);
    cursor = page.nextCursor;
  } while (cursor);
  const perTask = await Promise.all(
    tasks.map(async (task) => ({ id: task.id, attempts: await store.listAttempts(task.id), events: await store.listEvents(task.id) })),
  );
  return {
    users,
    workers: await store.listWorkers(),
    tasks,
    perTask,
    unfinished: (await store.listUnfinishedTasks()).map((t) => t.id),
    active: (await store.listActiveAttempts()).map((a) => a.id).sort(),
    files: await store.listFiles({}),
    dags: await Promise.all((await store.listDagIds()).map((id) => store.getDag(id))),
    unfinishedDags: (await store.listUnfinishedDags()).map((d) => d.id),
    gangs: await store.listGangs({ limit: 100 }),
    unfinishedGangs: (await store.listUnfinishedGangs()).map((g) => g.id),
    apiTokens: await store.listApiTokens({}),
    joinTokens: await store.listJoinTokens(),
    revokedCertificates: await store.listRevokedCertificates(),
    registryCredentials: await store.listRegistryCredentials({}),
    invites: await store.listInvites(),
    revokedSessions: await store.listRevokedSessions(),
    audit: (await store.listAudit({ limit: 1000 })).entries,
    queues: await store.listQueues(),
    userLimits: await store.listUserLimits(),
  };
}

const counts = (read: number, inserted: number, updated: number, unchanged: number, skipped = 0): KindCounts => ({
  read,
  inserted,
  updated,
  unchanged,
  skipped,
});

async function expectMigration(source: Store, target: Store): Promise<void> {
  const { finishedTaskId, queuedTaskId, runningDagId } = await fillSource(source);

  const first = await migrateStore(source, target);
  expect(first.problems).toEqual([]);
  expect(first.counts).toEqual<Record<RecordKind, KindCounts>>({
    users: counts(2, 2, 0, 0),
    workers: counts(2, 2, 0, 0),
    tasks: counts(450, 450, 0, 0),
    attempts: counts(2, 2, 0, 0),
    events: counts(3, 3, 0, 0),
    files: counts(2, 2, 0, 0),
    dags: counts(2, 2, 0, 0),
    gangs: counts(1, 1, 0, 0),
    apiTokens: counts(2, 2, 0, 0),
    joinTokens: counts(2, 2, 0, 0),
    revokedCertificates: counts(1, 1, 0, 0),
    registryCredentials: counts(1, 1, 0, 0),
    invites: counts(2, 2, 0, 0),
    revokedSessions: counts(1, 1, 0, 0),
    audit: counts(250, 250, 0, 0),
    queues: counts(1, 1, 0, 0),
    userLimits: counts(2, 2, 0, 0),
  });
  expect(await dump(target)).toEqual(await dump(source));

  // a second run changes nothing and duplicates nothing
  const again = await migrateStore(source, target);
  expect(again.counts).toEqual<Record<RecordKind, KindCounts>>({
    users: counts(2, 0, 0, 2),
    workers: counts(2, 0, 0, 2),
    tasks: counts(450, 0, 0, 450),
    attempts: counts(2, 0, 0, 2),
    events: counts(3, 0, 0, 3),
    files: counts(2, 0, 0, 2),
    dags: counts(2, 0, 0, 2),
    gangs: counts(1, 0, 0, 1),
    apiTokens: counts(2, 0, 0, 2),
    joinTokens: counts(2, 0, 0, 2),
    revokedCertificates: counts(1, 0, 0, 1),
    registryCredentials: counts(1, 0, 0, 1),
    invites: counts(2, 0, 0, 2),
    revokedSessions: counts(1, 0, 0, 1),
    audit: counts(250, 0, 0, 250),
    queues: counts(1, 0, 0, 1),
    userLimits: counts(2, 0, 0, 2),
  });
  expect(await dump(target)).toEqual(await dump(source));

  // the source moved on (a task assigned, a worker came back): a third run brings it over
  const attempt = mockAttempt((await source.getTask(queuedTaskId))!, { workerId: 'w-1' });
  await source.commit([
    { kind: 'insertAttempt', attempt },
    { kind: 'updateTask', taskId: queuedTaskId, expectStatus: ['queued'], patch: { status: 'assigned', currentAttemptId: attempt.id, workerId: 'w-1' } },
    { kind: 'appendEvent', event: { taskId: queuedTaskId, at: 4, kind: 'assigned', message: 'to w-1', attemptId: attempt.id } },
    { kind: 'appendEvent', event: { taskId: finishedTaskId, at: 5, kind: 'note', message: 'late event' } },
    { kind: 'updateDag', dagId: runningDagId, expectVersion: 1, patch: { version: 2, cancelRequested: true } },
    { kind: 'updateGang', gangId: 'gang-1', expectVersion: 1, patch: { version: 2, status: 'failed', reason: 'gang timed out after 60s: …', finishedAt: 9 } },
  ]);
  await source.saveWorker(worker('w-2'));
  const [ci] = await source.listApiTokens({});
  await source.touchApiToken(ci!.id, Date.now() + 60_000);
  await source.revokeJoinToken('wharf_rack04', 7);
  await source.useInvite('inv-open', Date.now(), 'someone');
  await source.updateUser((await source.listUsers())[0]!.id, { role: 'admin', tokenVersion: 2 });
  await source.appendAudit({ id: 'audit-late', at: Date.now(), address: '10.0.0.1', action: 'auth.login', outcome: 'unauthenticated', status: 401 });
  const third = await migrateStore(source, target);
  expect(third.problems).toEqual([]);
  expect(third.counts.tasks).toEqual(counts(450, 0, 1, 449));
  expect(third.counts.attempts).toEqual(counts(3, 1, 0, 2));
  expect(third.counts.events).toEqual(counts(5, 2, 0, 3));
  expect(third.counts.workers).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.dags).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.gangs).toEqual(counts(1, 0, 1, 0));
  expect(third.counts.apiTokens).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.joinTokens).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.invites).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.users).toEqual(counts(2, 0, 1, 1));
  expect(third.counts.audit).toEqual(counts(251, 1, 0, 250));
  expect(await dump(target)).toEqual(await dump(source));
  expect((await target.getTask(queuedTaskId))?.status).toBe('assigned');
  expect(await target.getDag(runningDagId)).toMatchObject({ version: 2, cancelRequested: true, status: 'running' });
  expect(await target.findUserByEmail('alice@example.com')).toEqual(await source.findUserByEmail('alice@example.com'));
}

describe('migrateStore: SQLite to SQLite', () => {
  it('copies every record kind, is safe to run again, and brings later changes over', async () => {
    const dir = freshDir();
    const source = new SqliteStore(join(dir, 'source.db'));
    const target = new SqliteStore(join(dir, 'target.db'));
    try {
      await expectMigration(source, target);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('says which records it could not copy instead of overwriting someone else\'s', async () => {
    const dir = freshDir();
    const source = new SqliteStore(join(dir, 'source.db'));
    const target = new SqliteStore(join(dir, 'target.db'));
    try {
      await source.insertUser(user('same@example.com'));
      await target.insertUser(user('same@example.com')); // another id
      const task = mockTask();
      await source.commit([
        { kind: 'insertTask', task },
        { kind: 'appendEvent', event: { taskId: task.id, at: 1, kind: 'queued', message: 'source history' } },
      ]);
      await target.commit([
        { kind: 'insertTask', task },
        { kind: 'appendEvent', event: { taskId: task.id, at: 1, kind: 'queued', message: 'another history' } },
      ]);
      const dag = mockDag({ userId: 'source-user' });
      await source.commit([{ kind: 'insertDag', dag }]);
      await target.commit([{ kind: 'insertDag', dag: { ...dag, userId: 'someone-else' } }]);
      const report = await migrateStore(source, target);
      expect(report.counts.users).toEqual(counts(1, 0, 0, 0, 1));
      expect(report.counts.events).toEqual(counts(1, 0, 0, 0, 1));
      expect(report.counts.dags).toEqual(counts(1, 0, 0, 0, 1));
      expect(report.problems).toEqual([
        expect.stringMatching(/^users: same@example.com exists in the target under another id/),
        expect.stringMatching(new RegExp(`^events: task ${task.id} has a different history in the target`)),
        expect.stringMatching(new RegExp(`^dags: DAG run ${dag.id} exists in the target as another run`)),
      ]);
      expect((await target.listEvents(task.id)).map((e) => e.message)).toEqual(['another history']);
      expect((await target.getDag(dag.id))?.userId).toBe('someone-else');
    } finally {
      await source.close();
      await target.close();
    }
  });
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'master/src/store/migrate-cli.ts'), ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

describe('wharf-migrate command', () => {
  it('copies a master\'s SQLite file into a new one and prints the counts per record kind', async () => {
    const dir = freshDir();
    const source = new SqliteStore(join(dir, 'wharf.db'));
    await fillSource(source);
    await source.close();
    const run = await runCli(['--from', join(dir, 'wharf.db'), '--to', join(dir, 'copy.db')]);
    expect(run.stderr).not.toMatch(/wharf-migrate:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/users\s+2 read: 2 new, 0 updated, 0 unchanged, 0 skipped/);
    expect(run.stdout).toMatch(/tasks\s+450 read: 450 new/);
    expect(run.stdout).toMatch(/events\s+3 read: 3 new/);
    expect(run.stdout).toMatch(/files\s+2 read: 2 new/);
    expect(run.stdout).toMatch(/dags\s+2 read: 2 new/);
    expect(run.stdout).toMatch(/apiTokens\s+2 read: 2 new/);
    expect(run.stdout).toContain('Done: every record is in the target.');
    const rerun = await runCli(['--from', join(dir, 'wharf.db'), '--to', join(dir, 'copy.db')]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/tasks\s+450 read: 0 new, 0 updated, 450 unchanged/);
  });

  it('refuses a missing source file without creating it, and bad usage, with exit status 2', async () => {
    const dir = freshDir();
    const missing = await runCli(['--from', join(dir, 'nope.db'), '--to', join(dir, 'copy.db')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('is not a file');
    expect(existsSync(join(dir, 'nope.db'))).toBe(false);
    const usage = await runCli(['--from', join(dir, 'a.db')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('both --from and --to are required');
  });

  it('names an unreachable MongoDB target without its password and exits 1', async () => {
    const dir = freshDir();
    const source = new SqliteStore(join(dir, 'wharf.db'));
    await source.close();
    const port = await new Promise<number>((resolvePort) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await runCli(['--from', join(dir, 'wharf.db'), '--to', `mongodb://u:topsecret@127.0.0.1:${port}/`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot use the target, MongoDB mongodb://u:***@127.0.0.1:${port}/ (database "wharf")`);
    expect(run.stdout + run.stderr).not.toContain('topsecret');
  }, 30_000);
});

const mongoUrl = process.env.WHARF_TEST_MONGO_URL;
if (mongoUrl === undefined || mongoUrl === '') {
  const reason =
    'SQLite-to-MongoDB migration test skipped: WHARF_TEST_MONGO_URL is not set (no MongoDB server on this machine)';
  console.log(reason);
  describe('migrateStore: SQLite to MongoDB', () => {
    it.skip(reason, () => {});
  });
} else {
  describe('migrateStore: SQLite to MongoDB', () => {
    it('copies every record kind into MongoDB, is safe to run again, and brings later changes over', async () => {
      const name = `wharf_migrate_${randomUUID().slice(0, 8)}`;
      const source = new SqliteStore(join(freshDir(), 'wharf.db'));
      const target = await MongoStore.connect(mongoUrl, name);
      try {
        await expectMigration(source, target);
      } finally {
        await source.close();
        await target.close();
        const client = new MongoClient(mongoUrl);
        await client.db(name).dropDatabase();
        await client.close();
      }
    });
  });
}
