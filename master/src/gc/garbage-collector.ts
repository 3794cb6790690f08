// The garbage collector: applies the retention policy (WHARF_RETAIN_*, config/master-config.ts)
// periodically (WHARF_GC_INTERVAL) and on demand (POST /api/admin/gc, the REPL's `gc`, `wharf
// gc`), with a dry run that removes nothing and reports what a run would remove.
//
// One run, in this order, each pass walking its records oldest finished first in batches of
// WHARF_GC_BATCH with a yield to the event loop between batches, so placement, reports and
// requests keep going while a large backlog is collected:
//   1. DAG runs: a finished run past its age or count bound goes with all of its tasks (their
//      attempts, events, logs and output files), unless a run that still exists took some of its
//      tasks over (a retry's `reusedFrom`): then it stays until that run is gone. The run is deleted first, on the condition that
//      it is still finished, and its tasks only then.
//   2. tasks outside DAG runs past their age or count bound, with attempts, events, logs and
//      files. A task of a DAG run stays while its run exists (the run needs it: its state, its
//      outputs' artifacts); one whose run is gone goes by age.
//   3. logs and output files of finished tasks past WHARF_RETAIN_FILES: the task record stays,
//      marked `filesRemovedAt`, and its logs and downloads answer 410 saying so. A task of an
//      unfinished DAG run keeps them.
//   4. artifacts no DAG run references (running runs included) stored before WHARF_RETAIN_ARTIFACTS.
//   5. telemetry histories of workers that sent nothing for WHARF_RETAIN_TELEMETRY.
// Never touched: active tasks (the store lists only finished ones and the task service's live
// set is checked again), dead letters (kept until an admin re-queues or dismisses them; a
// dismissed one is an ordinary failed task then), running DAG runs. Records are deleted before
// their files, so nothing points at a removed file; a file removal that fails leaves bytes on
// disk, never a record without its file. Bytes freed are the bytes of logs, output files (a
// file that is also an artifact, a hard link, frees nothing until its last link goes) and
// artifacts removed. Gangs (gangs/gang-service.ts): a gang's members are never collected by the
// task rules (its members go together or not at all, and no rule removes gang records yet: so
// not at all), and their logs and files go by WHARF_RETAIN_FILES only once their gang has ended
// (a pending or running gang may run a finished member again).
import type { ArtifactBackend } from '../artifacts/artifact-backend.js';
import type { RetentionPolicy } from '../config/master-config.js';
import type { FileStore } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../logs/log-store.js';
import type { DagRun } from '../records/dag.js';
import { TERMINAL_GANG_STATUSES } from '../records/gang.js';
import { TERMINAL_TASK_STATUSES, type Task, type TaskStatus } from '../records/task.js';
import { SerialExecutor } from '../serial-executor.js';
import type { FinishedCursor, Store } from '../store/store.js';
import { expires, expiresAny, expiryRule } from './retention.js';

export type GcKind = 'tasks' | 'events' | 'logs' | 'files' | 'dagRuns' | 'artifacts' | 'telemetry';
export const GC_KINDS: readonly GcKind[] = ['tasks', 'events', 'logs', 'files', 'dagRuns', 'artifacts', 'telemetry'];

export interface GcReport {
  /** what was removed (with dryRun: what would be): tasks, their events, attempt logs, output files, DAG runs, artifacts, telemetry histories */
  removed: Record<GcKind, number>;
  bytesFreed: number;
  dryRun: boolean;
  durationMs: number;
  /** epoch ms the run started */
  startedAt: number;
}

export interface GcDeps {
  store: Store;
  logs: Pick<LogStore, 'removeTask'>;
  files: Pick<FileStore, 'removeTaskFiles'>;
  artifacts: Pick<ArtifactBackend, 'list' | 'delete'>;
  telemetry: { forgetIdleHistories(before: number, options: { remove: boolean }): number };
  /** the task service's live set: a task it holds is never collected */
  isActive: (taskId: string) => boolean;
  retention: RetentionPolicy;
  batchSize: number;
  logger: Logger;
  /** told of every run's report (metrics; a real run makes the usage figures stale) */
  onReport?: ((report: GcReport) => void) | undefined;
  now?: () => number;
}

const TERMINAL_STATUSES = [...TERMINAL_TASK_STATUSES] as TaskStatus[];

/** Lets other work run between batches (timers and I/O callbacks included). */
const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Run {
  readonly removed: Record<GcKind, number> = { tasks: 0, events: 0, logs: 0, files: 0, dagRuns: 0, artifacts: 0, telemetry: 0 };
  bytesFreed = 0;
  constructor(
    readonly dryRun: boolean,
    readonly now: number,
  ) {}
}

export class GarbageCollector {
  private readonly serial = new SerialExecutor();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: GcDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs every `intervalMs` (the first run one interval after start), telling `done` each report; errors are logged. */
  start(intervalMs: number, done?: (report: GcReport) => void): void {
    this.timer = setInterval(() => {
      this.run({ dryRun: false }).then(done, (error: unknown) => this.deps.logger.error({ err: error }, 'garbage collection failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer; a run in progress stops after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.serial.idle();
  }

  /** One run (after the one in progress, if any); answers what it removed, or with dryRun what it would. */
  run(options: { dryRun: boolean }): Promise<GcReport> {
    return this.serial.run(async () => {
      const startedAt = this.now();
      const run = new Run(options.dryRun, startedAt);
      await this.collectDagRuns(run);
      await this.collectTasks(run);
      await this.collectFiles(run);
      await this.collectArtifacts(run);
      this.collectTelemetry(run);
      const report: GcReport = { removed: run.removed, bytesFreed: run.bytesFreed, dryRun: run.dryRun, durationMs: this.now() - startedAt, startedAt };
      this.deps.logger.info(report, run.dryRun ? 'garbage collection dry run' : 'garbage collection done');
      this.deps.onReport?.(report);
      return report;
    });
  }

  // ---- 1. DAG runs -----------------------------------------------------------------------
  private async collectDagRuns(run: Run): Promise<void> {
    const { store, retention, batchSize } = this.deps;
    const rule = expiryRule(run.now, retention.dagRunsMs, retention.dagRunsCount, await store.countFinishedDags());
    if (!expiresAny(rule)) return;
    // runs whose tasks a later run took over (a retry's `reusedFrom`): kept while that run exists
    const reused = new Set<string>();
    let seen = 0;
    for (const id of await store.listDagIds()) {
      for (const entry of (await store.getDag(id))?.tasks ?? []) if (entry.reusedFrom !== undefined) reused.add(entry.reusedFrom);
      if (++seen % batchSize === 0) await yieldToOthers();
    }
    let after: FinishedCursor | undefined;
    let position = 0;
    while (!this.stopped) {
      const batch = await store.listFinishedDags({ limit: batchSize, after });
      let done = batch.length < batchSize;
      for (const dag of batch) {
        if (!expires(rule, dag.finishedAt ?? run.now, position)) {
          done = true;
          break;
        }
        position += 1;
        if (reused.has(dag.id)) continue;
        await this.collectDagRun(run, dag);
      }
      const last = batch[batch.length - 1];
      if (done || !last) break;
      after = { finishedAt: last.finishedAt ?? 0, id: last.id };
      await yieldToOthers();
    }
  }

  private async collectDagRun(run: Run, dag: DagRun): Promise<void> {
    const { store } = this.deps;
    const tasks: Task[] = [];
    for (const entry of dag.tasks) {
      if (!entry.taskId) continue;
      const task = await store.getTask(entry.taskId);
      if (!task) continue;
      // a finished run's tasks are finished; one that is not (or a live one) keeps the run
      if (!TERMINAL_STATUSES.includes(task.status) || this.deps.isActive(task.id)) return;
      tasks.push(task);
    }
    if (run.dryRun) {
      run.removed.dagRuns += 1;
    } else {
      // deleted only while still finished: a run restarted meanwhile keeps its tasks
      if ((await store.deleteFinishedDags([dag.id])) === 0) return;
      run.removed.dagRuns += 1;
    }
    // dead letters among them stay (their own retention: none)
    await this.removeTasks(
      run,
      tasks.filter((task) => task.deadLetteredAt === undefined),
    );
  }

  // ---- 2. tasks --------------------------------------------------------------------------
  private async collectTasks(run: Run): Promise<void> {
    const { store, retention, batchSize } = this.deps;
    const rule = expiryRule(run.now, retention.tasksMs, retention.tasksCount, await store.countFinishedTasks());
    if (!expiresAny(rule)) return;
    let after: FinishedCursor | undefined;
    let position = 0;
    const runExists = new Map<string, boolean>();
    while (!this.stopped) {
      const batch = await store.listFinishedTasks({ limit: batchSize, after, dagTasks: true });
      let done = batch.length < batchSize;
      const expired: Task[] = [];
      for (const task of batch) {
        const finishedAt = task.finishedAt ?? run.now;
        // a gang's member: never alone, and gang records are not collected (see the header)
        if (task.gangId !== undefined) continue;
        if (task.dagId !== undefined) {
          // not counted: its run decides while it exists; once gone, the age bound does
          let exists = runExists.get(task.dagId);
          if (exists === undefined) {
            exists = (await store.getDag(task.dagId)) !== undefined;
            runExists.set(task.dagId, exists);
          }
          if (!exists && rule.finishedBefore !== undefined && finishedAt < rule.finishedBefore) expired.push(task);
          continue;
        }
        if (!expires(rule, finishedAt, position)) {
          done = true;
          break;
        }
        position += 1;
        expired.push(task);
      }
      await this.removeTasks(
        run,
        expired.filter((task) => !this.deps.isActive(task.id)),
      );
      const last = batch[batch.length - 1];
      if (done || !last) break;
      after = { finishedAt: last.finishedAt ?? 0, id: last.id };
      await yieldToOthers();
    }
  }

  /** Deletes the records first (only finished, not dead letters), then their logs and files. */
  private async removeTasks(run: Run, tasks: readonly Task[]): Promise<void> {
    if (tasks.length === 0) return;
    const { store, logs, files, logger } = this.deps;
    let gone: readonly Task[] = tasks;
    if (run.dryRun) {
      run.removed.tasks += tasks.length;
      for (const task of tasks) {
        run.removed.events += (await store.listEvents(task.id)).length;
        run.removed.files += (await store.listFiles({ taskId: task.id })).length;
      }
    } else {
      const deleted = await store.deleteFinishedTasks(tasks.map((task) => task.id));
      run.removed.tasks += deleted.tasks;
      run.removed.events += deleted.events;
      run.removed.files += deleted.files;
      // what the store kept (it changed meanwhile) keeps its files too
      if (deleted.tasks < tasks.length) {
        const kept = new Set<string>();
        for (const task of tasks) if (await store.getTask(task.id)) kept.add(task.id);
        gone = tasks.filter((task) => !kept.has(task.id));
      }
    }
    for (const task of gone) {
      try {
        await this.removeFilesOf(run, task);
      } catch (error: unknown) {
        logger.error({ err: error, taskId: task.id }, 'removing the logs or files of a collected task failed; their bytes stay on disk');
      }
    }
  }

  /**
   * Logs and output files of one task on disk: counts and measures them, and removes them unless
   * a dry run. (The file records are counted by the caller: it deletes them.)
   */
  private async removeFilesOf(run: Run, task: Task): Promise<void> {
    const remove = !run.dryRun;
    const logs = await this.deps.logs.removeTask(task.id, task.currentAttemptId ? [task.currentAttemptId] : [], { remove });
    const fileBytes = await this.deps.files.removeTaskFiles(task, { remove });
    run.removed.logs += logs.logs;
    run.bytesFreed += logs.bytes + fileBytes;
  }

  // ---- 3. logs and output files ----------------------------------------------------------
  private async collectFiles(run: Run): Promise<void> {
    const { store, retention, batchSize, logger } = this.deps;
    if (retention.filesMs === undefined) return;
    const finishedBefore = run.now - retention.filesMs;
    let after: FinishedCursor | undefined;
    const runStatus = new Map<string, string | undefined>();
    const gangEnded = new Map<string, boolean>();
    while (!this.stopped) {
      const batch = await store.listFinishedTasks({ limit: batchSize, after, dagTasks: true, finishedBefore });
      for (const task of batch) {
        if (task.filesRemovedAt !== undefined || this.deps.isActive(task.id)) continue;
        if (task.dagId !== undefined) {
          if (!runStatus.has(task.dagId)) runStatus.set(task.dagId, (await store.getDag(task.dagId))?.status);
          if (runStatus.get(task.dagId) === 'running') continue;
        }
        if (task.gangId !== undefined) {
          if (!gangEnded.has(task.gangId)) gangEnded.set(task.gangId, TERMINAL_GANG_STATUSES.has((await store.getGang(task.gangId))?.status ?? 'pending'));
          if (!gangEnded.get(task.gangId)) continue;
        }
        const files = await store.listFiles({ taskId: task.id });
        if (!run.dryRun) {
          const marked = await store.commit([
            { kind: 'updateTask', taskId: task.id, expectStatus: TERMINAL_STATUSES, patch: { filesRemovedAt: run.now } },
            { kind: 'replaceTaskFiles', taskId: task.id, files: [] },
          ]);
          if (!marked) continue;
        }
        run.removed.files += files.length;
        try {
          await this.removeFilesOf(run, task);
        } catch (error: unknown) {
          logger.error({ err: error, taskId: task.id }, 'removing the logs or files of a task failed; their bytes stay on disk');
        }
      }
      const last = batch[batch.length - 1];
      if (batch.length < batchSize || !last) break;
      after = { finishedAt: last.finishedAt ?? 0, id: last.id };
      await yieldToOthers();
    }
  }

  // ---- 4. artifacts ----------------------------------------------------------------------
  private async collectArtifacts(run: Run): Promise<void> {
    const { store, artifacts, retention, batchSize } = this.deps;
    if (retention.artifactsMs === undefined) return;
    const storedBefore = run.now - retention.artifactsMs;
    // every artifact a run (running or finished) records for one of its tasks
    const referenced = new Set<string>();
    let seen = 0;
    for (const id of await store.listDagIds()) {
      const dag = await store.getDag(id);
      for (const entry of dag?.tasks ?? []) for (const artifact of entry.artifacts ?? []) referenced.add(artifact.sha256);
      if (++seen % batchSize === 0) await yieldToOthers();
    }
    // the listing first: deleting while the backend lists could skip entries
    const unreferenced = [];
    for await (const artifact of artifacts.list()) {
      if (!referenced.has(artifact.sha256) && artifact.storedAt < storedBefore) unreferenced.push(artifact);
      if (++seen % batchSize === 0) await yieldToOthers();
    }
    for (const artifact of unreferenced) {
      if (this.stopped) break;
      if (!run.dryRun) await artifacts.delete(artifact.sha256);
      run.removed.artifacts += 1;
      run.bytesFreed += artifact.size;
      if (run.removed.artifacts % batchSize === 0) await yieldToOthers();
    }
  }

  // ---- 5. telemetry ----------------------------------------------------------------------
  private collectTelemetry(run: Run): void {
    const { retention, telemetry } = this.deps;
    if (retention.telemetryMs === undefined) return;
    run.removed.telemetry += telemetry.forgetIdleHistories(run.now - retention.telemetryMs, { remove: !run.dryRun });
  }
}
