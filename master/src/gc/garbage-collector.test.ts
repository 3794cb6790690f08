// The collector against real parts in a temp dir: SQLite store, log store, file store and disk
// artifacts; only the clock is set by the test (and the telemetry source is a recording fake).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refOf } from '../artifacts/artifact-backend.conformance.js';
import { DiskArtifactBackend } from '../artifacts/disk-artifact-backend.js';
import type { RetentionPolicy } from '../config/master-config.js';
import { FileStore } from '../files/file-store.js';
import { assertFilesKept } from '../files/files-removed.js';
import { createLogger } from '../logger.js';
import { LogStore } from '../logs/log-store.js';
import type { Task } from '../records/task.js';
import { mockAttempt, mockDag, mockTask } from '../store/store.conformance.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { GarbageCollector } from './garbage-collector.js';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;

let dir: string;
let store: SqliteStore;
let logs: LogStore;
let files: FileStore;
let artifacts: DiskArtifactBackend;
const active = new Set<string>();
const fakeTelemetry = { idle: 2, forgetIdleHistories: (_before: number, options: { remove: boolean }) => (options.remove ? fakeTelemetry.idle-- : fakeTelemetry.idle) };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-gc-'));
  store = new SqliteStore(join(dir, 'wharf.db'));
  logs = new LogStore(dir, 1 << 20);
  files = new FileStore(dir, 1 << 30);
  await files.init();
  artifacts = new DiskArtifactBackend(dir);
  await artifacts.init();
  active.clear();
  fakeTelemetry.idle = 2;
});

afterEach(async () => {
  logs.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function collector(retention: RetentionPolicy, batchSize = 2): GarbageCollector {
  return new GarbageCollector({
    store,
    logs,
    files,
    artifacts,
    telemetry: fakeTelemetry,
    isActive: (id) => active.has(id),
    retention,
    batchSize,
    logger: createLogger({ level: 'silent' }),
    now: () => NOW,
  });
}

/** A finished task `ageDays` old with one attempt, a 100-byte log and a 1000-byte output file. */
async function finishedTask(ageDays: number, overrides: Partial<Task> = {}): Promise<Task> {
  const task = mockTask({ status: 'succeeded', createdAt: NOW - ageDays * DAY - 1000, finishedAt: NOW - ageDays * DAY, ...overrides });
  const attempt = mockAttempt(task, { status: 'succeeded' });
  task.currentAttemptId = attempt.id;
  const folder = join(dir, 'files', task.userId, task.id);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'out.bin'), Buffer.alloc(1000));
  await store.commit([
    { kind: 'insertTask', task },
    { kind: 'insertAttempt', attempt },
    { kind: 'appendEvent', event: { taskId: task.id, at: task.finishedAt!, kind: 'succeeded', message: 'exit 0' } },
    { kind: 'replaceTaskFiles', taskId: task.id, files: [{ taskId: task.id, userId: task.userId, attemptId: attempt.id, path: 'out.bin', size: 1000, sha256: 'c'.repeat(64), createdAt: 1 }] },
  ]);
  logs.append(task.id, attempt.id, 1, 'stdout', Buffer.alloc(100, 'x'));
  logs.closeAttempt(attempt.id);
  return task;
}

const onDisk = (task: Task) => ({ log: existsSync(join(dir, 'logs', task.id)), file: existsSync(join(dir, 'files', task.userId, task.id, 'out.bin')) });

describe('the garbage collector', () => {
  it('removes tasks past the age bound with their events, logs and files, across batches, and reports the bytes; a dry run removes nothing', async () => {
    const old = [await finishedTask(40), await finishedTask(35), await finishedTask(31)];
    const young = await finishedTask(5);
    const gc = collector({ tasksMs: 30 * DAY });
    const dry = await gc.run({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, removed: { tasks: 3, events: 3, logs: 3, files: 3, dagRuns: 0, artifacts: 0, telemetry: 0 } });
    // a log frame is the 100 bytes, a 9-byte header and the 8-byte read time (logs/log-store.ts)
    expect(dry.bytesFreed).toBe(3 * (1000 + 117));
    for (const task of old) expect(await store.getTask(task.id)).toBeDefined();
    const report = await gc.run({ dryRun: false });
    expect(report.removed).toEqual(dry.removed);
    expect(report.bytesFreed).toBe(dry.bytesFreed);
    for (const task of old) {
      expect(await store.getTask(task.id)).toBeUndefined();
      expect(onDisk(task)).toEqual({ log: false, file: false });
    }
    expect(await store.getTask(young.id)).toBeDefined();
    expect(onDisk(young)).toEqual({ log: true, file: true });
  });

  it('keeps at most the count of finished tasks, the newest, and never an active task or a dead letter', async () => {
    const deadLetter = await finishedTask(50, { status: 'failed', deadLetteredAt: NOW - 50 * DAY });
    const live = mockTask({ status: 'running', createdAt: NOW - 60 * DAY });
    await store.commit([{ kind: 'insertTask', task: live }]);
    const tasks = [await finishedTask(4), await finishedTask(3), await finishedTask(2), await finishedTask(1)];
    const report = await collector({ tasksCount: 2 }, 1).run({ dryRun: false });
    expect(report.removed.tasks).toBe(2);
    expect(await store.getTask(tasks[0]!.id)).toBeUndefined();
    expect(await store.getTask(tasks[1]!.id)).toBeUndefined();
    expect(await store.getTask(tasks[2]!.id)).toBeDefined();
    expect(await store.getTask(tasks[3]!.id)).toBeDefined();
    expect(await store.getTask(deadLetter.id)).toBeDefined();
    expect(onDisk(deadLetter)).toEqual({ log: true, file: true });
    expect(await store.getTask(live.id)).toBeDefined();
  });

  it("never collects a gang's member by the task rules, and keeps its logs and files while its gang may run it again", async () => {
    const gang = (status: 'running' | 'succeeded', memberIds: string[]) => ({
      id: `g-${status}`, name: 'ddp', userId: 'u1', size: memberIds.length, status, policy: 'restartGang' as const, timeoutSeconds: 0,
      maxRestarts: 3, restartsUsed: 0, memberIds, port: 29500, createdAt: NOW - 50 * DAY, waitingSince: NOW - 50 * DAY, version: 1,
    });
    const live = [await finishedTask(40, { gangId: 'g-running', gangRank: 0, gangSize: 2, status: 'failed' }), await finishedTask(40, { gangId: 'g-running', gangRank: 1, gangSize: 2 })];
    const ended = [await finishedTask(40, { gangId: 'g-succeeded', gangRank: 0, gangSize: 2 }), await finishedTask(40, { gangId: 'g-succeeded', gangRank: 1, gangSize: 2 })];
    await store.commit([
      { kind: 'insertGang', gang: gang('running', live.map((t) => t.id)) },
      { kind: 'insertGang', gang: gang('succeeded', ended.map((t) => t.id)) },
    ]);
    const report = await collector({ tasksMs: 30 * DAY, tasksCount: 0, filesMs: 30 * DAY }).run({ dryRun: false });
    expect(report.removed).toMatchObject({ tasks: 0, files: 2, logs: 2 });
    for (const task of [...live, ...ended]) expect(await store.getTask(task.id)).toBeDefined();
    for (const task of live) expect(onDisk(task)).toEqual({ log: true, file: true });
    for (const task of ended) expect(onDisk(task)).toEqual({ log: false, file: false });
  });

  it('keeps a finished run whose tasks a retry took over while the retry exists', async () => {
    const first = mockDag({ status: 'failed', finishedAt: NOW - 40 * DAY });
    const retry = mockDag({ status: 'succeeded', finishedAt: NOW - 1 * DAY });
    const reused = await finishedTask(41, { dagId: first.id, dagTask: 'a' });
    const again = await finishedTask(1, { dagId: retry.id, dagTask: 'b' });
    first.tasks = [{ name: 'a', state: 'succeeded', taskId: reused.id }, { name: 'b', state: 'failed' }];
    retry.tasks = [{ name: 'a', state: 'succeeded', taskId: reused.id, reusedFrom: first.id }, { name: 'b', state: 'succeeded', taskId: again.id }];
    await store.commit([
      { kind: 'insertDag', dag: first },
      { kind: 'insertDag', dag: retry },
    ]);
    const report = await collector({ tasksMs: 30 * DAY, dagRunsMs: 30 * DAY }).run({ dryRun: false });
    expect(report.removed).toMatchObject({ dagRuns: 0, tasks: 0 });
    expect(await store.getDag(first.id)).toBeDefined();
    expect(await store.getTask(reused.id)).toBeDefined();
    expect(onDisk(reused)).toEqual({ log: true, file: true });
  });

  it('keeps the tasks of a running DAG run whatever their age, and removes a finished run with its tasks', async () => {
    const runningRun = mockDag({ status: 'running' });
    const doneRun = mockDag({ status: 'succeeded', finishedAt: NOW - 40 * DAY });
    const needed = await finishedTask(90, { dagId: runningRun.id, dagTask: 'a' });
    const member = await finishedTask(41, { dagId: doneRun.id, dagTask: 'a' });
    runningRun.tasks = [{ name: 'a', state: 'succeeded', taskId: needed.id }];
    doneRun.tasks = [{ name: 'a', state: 'succeeded', taskId: member.id }];
    await store.commit([
      { kind: 'insertDag', dag: runningRun },
      { kind: 'insertDag', dag: doneRun },
    ]);
    const report = await collector({ tasksMs: 30 * DAY, dagRunsMs: 30 * DAY, filesMs: 30 * DAY }).run({ dryRun: false });
    expect(report.removed).toMatchObject({ dagRuns: 1, tasks: 1, files: 1, logs: 1 });
    expect(await store.getDag(doneRun.id)).toBeUndefined();
    expect(await store.getTask(member.id)).toBeUndefined();
    expect(onDisk(member)).toEqual({ log: false, file: false });
    expect(await store.getTask(needed.id)).toBeDefined();
    expect(onDisk(needed)).toEqual({ log: true, file: true });
  });

  it('removes only the logs and files past WHARF_RETAIN_FILES: the task stays, marked, and asking for its files says they are gone', async () => {
    const task = await finishedTask(10);
    const report = await collector({ tasksMs: 30 * DAY, filesMs: 7 * DAY }).run({ dryRun: false });
    expect(report.removed).toMatchObject({ tasks: 0, logs: 1, files: 1 });
    expect(report.bytesFreed).toBe(1117);
    const kept = (await store.getTask(task.id))!;
    expect(kept.filesRemovedAt).toBe(NOW);
    expect(await store.listFiles({ taskId: task.id })).toEqual([]);
    expect(onDisk(task)).toEqual({ log: false, file: false });
    expect(() => assertFilesKept(kept)).toThrow(/removed by retention at .*WHARF_RETAIN_FILES/);
    // a second run finds nothing more
    expect((await collector({ tasksMs: 30 * DAY, filesMs: 7 * DAY }).run({ dryRun: false })).removed.files).toBe(0);
  });

  it('removes artifacts no run references once they are older than the bound, and keeps referenced and young ones', async () => {
    const referenced = refOf('an artifact a run uses');
    const orphan = refOf('an artifact of a run that is gone');
    for (const a of [referenced, orphan]) await artifacts.put(a, Readable.from([a.bytes]));
    await store.commit([
      { kind: 'insertDag', dag: mockDag({ status: 'succeeded', finishedAt: NOW, tasks: [{ name: 'a', state: 'succeeded', artifacts: [{ name: 'x', sha256: referenced.sha256, size: referenced.size }] }] }) },
    ]);
    // stored "now" by the file clock, which is far after NOW: young for a collector at NOW
    expect((await collector({ artifactsMs: DAY }).run({ dryRun: false })).removed.artifacts).toBe(0);
    const later = new GarbageCollector({
      store, logs, files, artifacts, telemetry: fakeTelemetry, isActive: () => false, retention: { artifactsMs: 1 }, batchSize: 10,
      logger: createLogger({ level: 'silent' }), now: () => Date.now() + 60_000,
    });
    const report = await later.run({ dryRun: false });
    expect(report.removed.artifacts).toBe(1);
    expect(report.bytesFreed).toBe(orphan.size);
    expect(await artifacts.exists(orphan.sha256)).toBe(false);
    expect(await artifacts.exists(referenced.sha256)).toBe(true);
  });

  it('forgets idle telemetry histories, and a dry run only counts them', async () => {
    expect((await collector({ telemetryMs: DAY }).run({ dryRun: true })).removed.telemetry).toBe(2);
    expect(fakeTelemetry.idle).toBe(2);
    expect((await collector({ telemetryMs: DAY }).run({ dryRun: false })).removed.telemetry).toBe(2);
  });

  // 10,000 in the suite; WHARF_GC_BENCH_TASKS=50000 for the figure in docs/BENCHMARKS.md
  const benchTasks = Number(process.env.WHARF_GC_BENCH_TASKS ?? 10_000);
  it(`collects ${benchTasks} finished tasks in batches without stalling the event loop (prints the longest stall)`, async () => {
    const groups = [];
    for (let g = 0; g < benchTasks / 1000; g += 1) {
      const group = [];
      for (let i = 0; i < 1000; i += 1) {
        const finishedAt = NOW - 40 * DAY + g * 1000 + i;
        group.push({ kind: 'insertTask' as const, task: mockTask({ status: 'succeeded', createdAt: finishedAt - 1, finishedAt }) });
      }
      groups.push(group);
    }
    await store.commitMany(groups);
    // a timer that should fire every 5 ms stands for placement passes and requests meanwhile
    let last = performance.now();
    let longest = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const at = performance.now();
      longest = Math.max(longest, at - last);
      last = at;
      ticks += 1;
    }, 5);
    const started = performance.now();
    const report = await collector({ tasksMs: 30 * DAY }, 500).run({ dryRun: false });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(report.removed.tasks).toBe(benchTasks);
    expect(await store.countFinishedTasks()).toBe(0);
    // the timer ran during the run (batches yield); the figure is printed, not asserted
    expect(ticks).toBeGreaterThan(1);
    console.log(`gc of ${benchTasks} tasks in batches of 500: ${elapsed.toFixed(0)} ms, longest event-loop stall ${longest.toFixed(1)} ms, ${ticks} timer ticks during the run`);
  }, 120_000);
});
