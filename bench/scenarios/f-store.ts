// Scenario f: the SQLite store's hot paths, one commit at a time as the master does them,
// against a raw better-sqlite3 INSERT of the same JSON size in a transaction per operation,
// on the same disk (a temp dir). MongoDB: the Mongo store does not exist yet; skipped.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../master/src/store/sqlite-store.js';
import type { Attempt, Task } from '../../master/src/tasks/task-types.js';
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
  };
}

/** Times `ops` sequential calls of `fn`; answers ops/s. */
async function opsPerSecond(ops: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i += 1) await fn(i);
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function runStoreScenario(options: StoreOptions): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-store-'));
  const notes: string[] = [];
  try {
    const store = new SqliteStore(join(dir, 'wharf.db'));
    const now = Date.now();
    const tasks = Array.from({ length: options.ops }, (_, i) => newTask(i, now));
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
    const enqueue = await opsPerSecond(options.ops, async (i) =>
      check(
        await store.commit([
          { kind: 'insertTask', task: tasks[i]! },
          { kind: 'appendEvent', event: { taskId: tasks[i]!.id, at: now, kind: 'submitted', message: 'submitted' } },
        ]),
      ),
    );
    const assign = await opsPerSecond(options.ops, async (i) =>
      check(
        await store.commit([
          { kind: 'insertAttempt', attempt: attempts[i]! },
          {
            kind: 'updateTask',
            taskId: tasks[i]!.id,
            expectStatus: ['queued'],
            patch: { status: 'assigned', workerId: 'bench-worker', currentAttemptId: attempts[i]!.id, attemptCount: 1 },
          },
        ]),
      ),
    );
    const complete = await opsPerSecond(options.ops, async (i) =>
      check(
        await store.commit([
          { kind: 'updateAttempt', attemptId: attempts[i]!.id, expectStatus: ['assigned', 'running'], patch: { status: 'succeeded', exitCode: 0, finishedAt: now } },
          { kind: 'updateTask', taskId: tasks[i]!.id, expectStatus: ['assigned', 'running'], patch: { status: 'succeeded', exitCode: 0, finishedAt: now } },
          { kind: 'appendEvent', event: { taskId: tasks[i]!.id, at: now, kind: 'succeeded', message: 'exit code 0', attemptId: attempts[i]!.id } },
        ]),
      ),
    );
    // every task read back: succeeded with one attempt
    let readBackOk = 0;
    for (const task of tasks.slice(0, Math.min(200, tasks.length))) {
      const stored = await store.getTask(task.id);
      const storedAttempts = await store.listAttempts(task.id);
      if (stored?.status === 'succeeded' && storedAttempts.length === 1) readBackOk += 1;
    }
    await store.close();

    // baseline: the same JSON size, one raw INSERT per transaction, same pragmas, same disk
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, data TEXT NOT NULL)');
    const insert = raw.prepare('INSERT INTO docs (id, data) VALUES (?, ?)');
    const one = raw.transaction((id: string, data: string) => insert.run(id, data));
    const payloads = tasks.map((task) => JSON.stringify(task));
    const baseline = await opsPerSecond(options.ops, (i) => one(randomUUID(), payloads[i]!));
    raw.close();

    const row = (metric: string, value: number): MetricRow => ({
      scenario: 'f',
      metric,
      value: round(value, 0),
      unit: 'ops/s',
      baseline: round(baseline, 0),
      baselineLabel: 'raw INSERT, txn per op',
      ratio: round(value / baseline),
      target: '',
      met: null,
    });
    if (process.env.WHARF_TEST_MONGO_URL) {
      notes.push('MongoDB: skipped — WHARF_TEST_MONGO_URL is set but the Mongo store does not exist yet (only SqliteStore implements Store)');
    }
    return {
      scenario: 'f',
      title: `SQLite store hot paths (${options.ops} ops each)`,
      rows: [row('enqueue (insertTask+event)', enqueue), row('assign (insertAttempt+updateTask)', assign), row('complete (updAttempt+updTask+event)', complete)],
      checks: { ops: options.ops, commitsFailed: failed, readBackChecked: Math.min(200, tasks.length), readBackOk },
      notes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
