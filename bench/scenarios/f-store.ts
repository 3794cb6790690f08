// Scenario f: the store's hot paths (enqueue, assign, complete), one commit at a time, and
// `complete` again as the master now stores worker reports: group commits of 500. SQLite runs
// against a raw better-sqlite3 INSERT of the same JSON size in a transaction per operation on
// the same disk (a temp dir); MongoDB, when WHARF_TEST_MONGO_URL is set, against a raw
// insertOne of the same documents on the same server.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import type { Attempt } from '../../master/src/records/attempt.js';
import type { Task } from '../../master/src/records/task.js';
import { MongoStore } from '../../master/src/store/mongo-store.js';
import { SqliteStore } from '../../master/src/store/sqlite-store.js';
import { commitGroups, type Store, type StoreChange } from '../../master/src/store/store.js';
import { round, type MetricRow, type ScenarioResult } from '../support/types.js';

export interface StoreOptions {
  ops: number;
}

function newTask(i: number, now: number): Task {
  return {
    id: randomUUID(),
    name: `bench-${i}`,
    userId: 'bench-user',
    image: 'wharf/busybox:latest',
    command: ['sh', '-c', 'echo hello'],
    env: {},
    runtime: 'docker',
    labels: {},
    status: 'queued',
    priority: 50,
    resources: { cpu: 0.5, memory: 268435456, gpu: 0, disk: 0 },
    maxRetries: 0,
    timeoutSeconds: 0,
    retriesUsed: 0,
    createdAt: now + i,
    attemptCount: 0,
    queue: 'default',
  };
}

/** Times `ops` sequential calls of `fn`; answers ops/s. */
async function opsPerSecond(ops: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i += 1) await fn(i);
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

interface HotPaths {
  enqueue: number;
  assign: number;
  complete: number;
  completeGrouped: number;
  failed: number;
  readBackOk: number;
  readBackChecked: number;
}

const GROUP = 500;

/** Runs every hot path on `store` with `ops` fresh tasks; the store is left open. */
async function measureHotPaths(store: Store, ops: number): Promise<HotPaths> {
  const now = Date.now();
  const tasks = Array.from({ length: 2 * ops }, (_, i) => newTask(i, now));
  const attempts: Attempt[] = tasks.map((task) => ({
    id: randomUUID(),
    taskId: task.id,
    number: 1,
    workerId: 'bench-worker',
    status: 'assigned',
    resources: task.resources,
    createdAt: now,
  }));
  let failed = 0;
  const check = (ok: boolean): void => {
    if (!ok) failed += 1;
  };
  const enqueueChanges = (i: number): StoreChange[] => [
    { kind: 'insertTask', task: tasks[i]! },
    { kind: 'appendEvent', event: { taskId: tasks[i]!.id, at: now, kind: 'submitted', message: 'submitted' } },
  ];
  const assignChanges = (i: number): StoreChange[] => [
    { kind: 'insertAttempt', attempt: attempts[i]! },
    {
      kind: 'updateTask',
      taskId: tasks[i]!.id,
      expectStatus: ['queued'],
      patch: { status: 'assigned', workerId: 'bench-worker', currentAttemptId: attempts[i]!.id, attemptCount: 1 },
    },
  ];
  const completeChanges = (i: number): StoreChange[] => [
    { kind: 'updateAttempt', attemptId: attempts[i]!.id, expectStatus: ['assigned', 'running'], patch: { status: 'succeeded', exitCode: 0, finishedAt: now } },
    { kind: 'updateTask', taskId: tasks[i]!.id, expectStatus: ['assigned', 'running'], patch: { status: 'succeeded', exitCode: 0, finishedAt: now } },
    { kind: 'appendEvent', event: { taskId: tasks[i]!.id, at: now, kind: 'succeeded', message: 'exit code 0', attemptId: attempts[i]!.id } },
  ];
  const enqueue = await opsPerSecond(ops, async (i) => check(await store.commit(enqueueChanges(i))));
  const assign = await opsPerSecond(ops, async (i) => check(await store.commit(assignChanges(i))));
  const complete = await opsPerSecond(ops, async (i) => check(await store.commit(completeChanges(i))));
  // the second half of the tasks: set up in groups, then completed in groups as the master does
  for (let i = ops; i < 2 * ops; i += GROUP) {
    const ids = Array.from({ length: Math.min(GROUP, 2 * ops - i) }, (_, k) => i + k);
    for (const ok of await commitGroups(store, ids.map(enqueueChanges))) check(ok);
    for (const ok of await commitGroups(store, ids.map(assignChanges))) check(ok);
  }
  const start = process.hrtime.bigint();
  for (let i = ops; i < 2 * ops; i += GROUP) {
    const ids = Array.from({ length: Math.min(GROUP, 2 * ops - i) }, (_, k) => i + k);
    for (const ok of await commitGroups(store, ids.map(completeChanges))) check(ok);
  }
  const completeGrouped = ops / (Number(process.hrtime.bigint() - start) / 1e9);
  // read back a sample of both halves: succeeded with one attempt
  let readBackOk = 0;
  const sample = [...tasks.slice(0, 100), ...tasks.slice(ops, ops + 100)];
  for (const task of sample) {
    const stored = await store.getTask(task.id);
    const storedAttempts = await store.listAttempts(task.id);
    if (stored?.status === 'succeeded' && storedAttempts.length === 1) readBackOk += 1;
  }
  return { enqueue, assign, complete, completeGrouped, failed, readBackOk, readBackChecked: sample.length };
}

function hotPathRows(label: string, paths: HotPaths, baseline: number, baselineLabel: string): MetricRow[] {
  const row = (metric: string, value: number): MetricRow => ({
    scenario: 'f',
    metric: `${label} ${metric}`,
    value: round(value, 0),
    unit: 'ops/s',
    baseline: round(baseline, 0),
    baselineLabel,
    ratio: round(value / baseline),
    target: '',
    met: null,
  });
  return [
    row('enqueue (insertTask+event)', paths.enqueue),
    row('assign (insertAttempt+updateTask)', paths.assign),
    row('complete (updAttempt+updTask+event)', paths.complete),
    row(`complete, group commits of ${GROUP}`, paths.completeGrouped),
  ];
}

export async function runStoreScenario(options: StoreOptions): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-store-'));
  const notes: string[] = [];
  try {
    const store = new SqliteStore(join(dir, 'wharf.db'));
    const sqlite = await measureHotPaths(store, options.ops);
    await store.close();

    // baseline: the same JSON size, one raw INSERT per transaction, same pragmas, same disk
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, data TEXT NOT NULL)');
    const insert = raw.prepare('INSERT INTO docs (id, data) VALUES (?, ?)');
    const one = raw.transaction((id: string, data: string) => insert.run(id, data));
    const payloads = Array.from({ length: options.ops }, (_, i) => JSON.stringify(newTask(i, Date.now())));
    const baseline = await opsPerSecond(options.ops, (i) => one(randomUUID(), payloads[i]!));
    raw.close();

    const rows = hotPathRows('sqlite', sqlite, baseline, 'raw INSERT, txn per op');
    const checks: Record<string, string | number | boolean> = {
      ops: options.ops,
      commitsFailed: sqlite.failed,
      readBackChecked: sqlite.readBackChecked,
      readBackOk: sqlite.readBackOk,
    };
    const mongoUrl = process.env.WHARF_TEST_MONGO_URL;
    if (mongoUrl) {
      const database = `wharf_bench_${Date.now()}`;
      const mongo = await MongoStore.connect(mongoUrl, database);
      try {
        const paths = await measureHotPaths(mongo, options.ops);
        const client = new MongoClient(mongoUrl);
        await client.connect();
        try {
          const docs = client.db(database).collection('bench_raw');
          const mongoBaseline = await opsPerSecond(options.ops, (i) => docs.insertOne({ _id: randomUUID() as never, data: payloads[i] }));
          rows.push(...hotPathRows('mongo', paths, mongoBaseline, 'raw insertOne, same server'));
          await client.db(database).dropDatabase();
        } finally {
          await client.close();
        }
        Object.assign(checks, { mongoCommitsFailed: paths.failed, mongoReadBackOk: paths.readBackOk });
      } finally {
        await mongo.close();
      }
    } else {
      notes.push('MongoDB: skipped (set WHARF_TEST_MONGO_URL to a server to measure the Mongo store too)');
    }
    return {
      scenario: 'f',
      title: `store hot paths (${options.ops} ops each)`,
      rows,
      checks,
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
