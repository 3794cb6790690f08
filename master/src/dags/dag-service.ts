// The DAG engine: runs DAG files as sets of ordinary Wharf tasks, all state in the store.
//
// The loop: POST /api/dags stores the run with every task `pending` and, in the same store
// commit, submits the tasks with no dependencies through the TaskService (the one lifecycle).
// Whenever a task of a run reaches a terminal state (TaskService.onTaskChange), the run is
// evaluated again (dag-evaluation.ts, pure): a succeeded task's declared outputs become
// artifacts (content-addressed, ArtifactBackend), newly ready tasks are submitted with their
// inputs resolved to those artifacts, a failure marks every dependent upstream_failed, and the
// run ends when every task is terminal. A task leaves `pending` in the same store commit that
// inserts it (TaskService.submitMany's extraChanges, conditional on the run's version), so a
// restart that evaluates again can never dispatch a task twice. Every evaluation runs in
// `serial`, one at a time; after a master restart recover() evaluates every unfinished run.
//
//   pending ──all dependencies succeeded──▶ queued ─▶ (running) ─▶ succeeded | failed | cancelled
//      └──a dependency did not succeed──▶ upstream_failed
//   cancel: queued/running tasks are cancelled through the TaskService, pending ones at once
import { randomUUID } from 'node:crypto';
import type { ArtifactBackend } from '../artifacts/artifact-backend.js';
import { confirmDirectUploads } from '../artifacts/artifact-upload-targets.js';
import { notFound, WharfError } from '../errors.js';
import type { FileStore } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { Attempt } from '../records/attempt.js';
import { TERMINAL_DAG_TASK_STATES, type DagArtifact, type DagPatch, type DagRun, type DagRunTask, type DagSpec, type DagStatus, type DagTaskSpec, type DagTaskState } from '../records/dag.js';
import { TERMINAL_TASK_STATUSES, type DagTaskFields, type NewTask, type Task } from '../records/task.js';
import type { User } from '../records/user.js';
import { SerialExecutor } from '../serial-executor.js';
import type { DagQuery, Store, StoreChange } from '../store/store.js';
import type { TaskService } from '../tasks/task-service.js';
import { evaluateDag } from './dag-evaluation.js';
import { DagGraph } from './dag-graph.js';
import { computeDagRunMetrics, newestRunsFirst, type DagRunMetrics, type DagRunTaskFacts } from './dag-metrics.js';

export interface DagServiceOptions {
  now?: () => number;
}

/** A task of a run with what the API shows about it (GET /api/dags/:id). */
export interface DagTaskDetails extends DagRunTask {
  /** the DAG state, with `running` while its Wharf task runs */
  status: DagTaskState;
  dependsOn: string[];
  outputs: string[];
  inputs: { name: string; fromTask: string; sha256?: string | undefined; size?: number | undefined; cache: 'hit' | 'miss' | null }[];
  workerId?: string | undefined;
  /** that worker's name when the attempt was placed (absent on attempts stored before names were kept) */
  workerName?: string | undefined;
  attempts: Pick<Attempt, 'id' | 'number' | 'workerId' | 'workerName' | 'status' | 'startedAt' | 'finishedAt' | 'exitCode' | 'error' | 'inputReports'>[];
}

export interface DagDetails extends Omit<DagRun, 'tasks' | 'spec' | 'version'> {
  tasks: DagTaskDetails[];
}

export class DagService {
  private readonly serial = new SerialExecutor();
  /** runs with an evaluation queued (coalesces bursts of task changes) */
  private readonly queued = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly tasks: TaskService,
    private readonly files: FileStore,
    private readonly artifacts: ArtifactBackend,
    private readonly logger: Logger,
    private readonly options: DagServiceOptions = {},
  ) {
    tasks.onTaskChange((task) => {
      if (task.dagId !== undefined && TERMINAL_TASK_STATUSES.has(task.status)) this.evaluateSoon(task.dagId);
    });
    // S3: workers PUT declared outputs straight into the bucket; a result that says so is
    // confirmed (object there, right size) before its task may succeed
    if (artifacts.presignedPutUrl && artifacts.confirmUpload) {
      tasks.useDirectOutputUploads({
        confirm: (task, files, reported) => confirmDirectUploads(artifacts, task.outputs ?? [], files, reported),
      });
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** After a master restart (and after TaskService.recover): evaluate every unfinished run. */
  async recover(): Promise<void> {
    const runs = await this.store.listUnfinishedDags();
    for (const run of runs) this.evaluateSoon(run.id);
    await this.idle();
    this.logger.info({ runs: runs.length }, 'DAG runs recovered');
  }

  /** Waits for every evaluation queued so far (tests, orderly shutdown). */
  async idle(): Promise<void> {
    await this.serial.idle();
  }

  stop(): void {
    this.stopped = true;
  }

  // ---------------------------------------------------------------- user-facing

  /** Stores a new run and queues its root tasks, in one store commit. */
  async submit(user: User, spec: DagSpec): Promise<DagRun> {
    // every task is checked now (admin-only settings, resource limits), not when it becomes ready
    this.tasks.checkSubmission(user, spec.tasks, (index) => `task "${spec.tasks[index]?.name ?? index}": `);
    // and the storage quota once, before the run is made (its later tasks are part of what was accepted)
    await this.tasks.checkStorageQuota(user);
    return this.serial.run(() => this.start(user, this.newRun(user, spec.name, spec.useCache, spec.tasks)));
  }

  /**
   * Runs an ended run's file anew as a new run of the requesting user (nothing reused; the
   * worker caches still serve identical inputs). The tasks are checked again for this user.
   */
  rerun(user: User, dagId: string): Promise<DagRun> {
    return this.serial.run(async () => {
      const old = await this.visibleRun(user, dagId);
      if (old.status === 'running') throw new WharfError('conflict', `DAG run ${dagId} is still running; cancel it first or wait for it to end`);
      this.tasks.checkSubmission(user, old.spec, (index) => `task "${old.spec[index]?.name ?? index}": `);
      const run = this.newRun(user, old.name, old.useCache, old.spec);
      run.origin = { kind: 'rerun', dagId: old.id };
      return this.start(user, run);
    });
  }

  /**
   * Retries an ended run from its failed tasks, as a new run of the requesting user whose
   * `origin` names the old one: each task that succeeded there (and whose artifacts the store
   * still holds) is taken over as succeeded, with its Wharf task and artifacts — not run again —
   * and every other task (failed, cancelled, upstream_failed, or a succeeded one whose
   * artifacts are gone, with all that depend on it) runs again, its inputs resolved to the
   * reused artifacts. The old run is left as it was (its history stays readable).
   */
  retry(user: User, dagId: string): Promise<DagRun> {
    return this.serial.run(async () => {
      const old = await this.visibleRun(user, dagId);
      if (old.status === 'running') throw new WharfError('conflict', `DAG run ${dagId} is still running; cancel it first or wait for it to end`);
      if (old.status === 'succeeded') throw new WharfError('conflict', `DAG run ${dagId} succeeded: no task to retry (POST /api/dags/${dagId}/rerun runs it anew)`);
      const graph = graphOf(old);
      const again = new Set<string>();
      for (const entry of old.tasks) {
        if (entry.state === 'succeeded' && (await this.artifactsHeld(entry.artifacts ?? []))) continue;
        again.add(entry.name);
        for (const dependent of graph.dependentsOf(entry.name)) again.add(dependent);
      }
      const toRun = old.spec.filter((task) => again.has(task.name));
      this.tasks.checkSubmission(user, toRun, (index) => `task "${toRun[index]?.name ?? index}": `);
      const run = this.newRun(user, old.name, old.useCache, old.spec);
      run.origin = { kind: 'retry', dagId: old.id };
      run.tasks = old.tasks.map((entry) =>
        again.has(entry.name)
          ? { name: entry.name, state: 'pending' }
          : { name: entry.name, state: 'succeeded', taskId: entry.taskId, artifacts: entry.artifacts, finishedAt: entry.finishedAt, reusedFrom: entry.reusedFrom ?? old.id },
      );
      const started = await this.start(user, run);
      this.logger.info({ dagId: started.id, retryOf: old.id, reused: old.tasks.length - again.size, again: again.size }, 'DAG run retried');
      return started;
    });
  }

  private async artifactsHeld(artifacts: readonly DagArtifact[]): Promise<boolean> {
    for (const artifact of artifacts) {
      if ((await this.artifacts.stat(artifact.sha256))?.size !== artifact.size) return false;
    }
    return true;
  }

  private newRun(user: User, name: string, useCache: boolean, spec: DagTaskSpec[]): DagRun {
    return {
      id: randomUUID(),
      name,
      userId: user.id,
      status: 'running',
      useCache,
      cancelRequested: false,
      createdAt: this.now(),
      version: 1,
      spec: structuredClone(spec),
      tasks: spec.map((task) => ({ name: task.name, state: 'pending' })),
    };
  }

  /** Stores a new run with the tasks that are ready now queued, in one commit (inside `serial`). */
  private async start(user: User, run: DagRun): Promise<DagRun> {
    const byName = new Map(run.tasks.map((entry) => [entry.name, entry]));
    const evaluation = evaluateDag(graphOf(run), statesOf(run));
    const ready = evaluation.toQueue.map((name) => specOf(run, name));
    // a valid DAG always has a root, and a retry always has a task to run again whose
    // dependencies all succeeded; the run record goes in the same commit as its tasks
    const created = await this.tasks.submitMany(
      user,
      ready.map((task) => this.taskInput(run, task, byName)),
      {
        extraChanges: (tasks) => {
          tasks.forEach((task, i) => Object.assign(byName.get(ready[i]!.name)!, { state: 'queued', taskId: task.id }));
          return [{ kind: 'insertDag', dag: run }];
        },
      },
    );
    this.logger.info({ dagId: run.id, name: run.name, tasks: run.tasks.length, queued: created.length, origin: run.origin }, 'DAG run submitted');
    return structuredClone(run);
  }

  /** Cancels a run: running and queued tasks are cancelled, pending ones marked cancelled. */
  cancel(user: User, dagId: string): Promise<DagRun> {
    return this.serial.run(async () => {
      const run = await this.visibleRun(user, dagId);
      if (run.status !== 'running') throw new WharfError('conflict', `DAG run ${dagId} is already ${run.status}`);
      if (!run.cancelRequested) {
        const ok = await this.store.commit([
          { kind: 'updateDag', dagId, expectStatus: ['running'], expectVersion: run.version, patch: { cancelRequested: true, version: run.version + 1 } },
        ]);
        if (!ok) throw new WharfError('conflict', `DAG run ${dagId} changed; try again`);
      }
      await this.step(dagId, user);
      return (await this.store.getDag(dagId))!;
    });
  }

  async get(user: User, dagId: string): Promise<DagDetails> {
    const run = await this.visibleRun(user, dagId);
    const tasks = await Promise.all(run.tasks.map((entry) => this.taskDetails(run, entry)));
    const { spec: _spec, version: _version, tasks: _tasks, ...rest } = run;
    return { ...rest, tasks };
  }

  async list(user: User, query: { limit: number; name?: string | undefined }): Promise<DagRun[]> {
    const filter: DagQuery = { limit: query.limit, name: query.name, userId: user.role === 'admin' ? undefined : user.id };
    return this.store.listDags(filter);
  }

  /** The metrics record of the newest `limit` runs of a DAG name the user may see, newest first. */
  async metrics(user: User, name: string, limit: number): Promise<DagRunMetrics[]> {
    const runs = await this.list(user, { limit, name });
    const metrics: (DagRunMetrics & { createdAt: number })[] = [];
    for (const run of runs) {
      const facts: DagRunTaskFacts[] = [];
      for (const entry of run.tasks) {
        const spec = specOf(run, entry.name);
        const attempts = entry.taskId ? await this.store.listAttempts(entry.taskId) : [];
        const last = attempts[attempts.length - 1];
        const staged = [...attempts].reverse().find((a) => a.inputReports && a.inputReports.length > 0);
        facts.push({
          name: entry.name,
          state: entry.state,
          node: last?.workerId,
          nodeName: last?.workerName,
          inputs: (staged?.inputReports ?? []).map((report) => ({
            fromTask: spec.inputs.find((input) => input.name === report.name)?.fromTask ?? '',
            name: report.name,
            bytes: report.bytes,
            cache: report.cacheHit ? ('hit' as const) : ('miss' as const),
          })),
        });
      }
      metrics.push({
        ...computeDagRunMetrics({
          dagId: run.id,
          dagName: run.name,
          status: run.status,
          cacheEnabled: run.useCache,
          createdAt: run.createdAt,
          finishedAt: run.finishedAt,
          tasks: facts,
        }),
        createdAt: run.createdAt,
      });
    }
    return newestRunsFirst(metrics, limit).map(({ createdAt: _createdAt, ...rest }) => rest);
  }

  private async visibleRun(user: User, dagId: string): Promise<DagRun> {
    const run = await this.store.getDag(dagId);
    if (!run || (user.role !== 'admin' && run.userId !== user.id)) throw notFound(`DAG run ${dagId}`);
    return run;
  }

  private async taskDetails(run: DagRun, entry: DagRunTask): Promise<DagTaskDetails> {
    const spec = specOf(run, entry.name);
    const task = entry.taskId ? await this.store.getTask(entry.taskId) : undefined;
    const attempts = entry.taskId ? await this.store.listAttempts(entry.taskId) : [];
    const last = attempts[attempts.length - 1];
    const staged = [...attempts].reverse().find((a) => a.inputReports && a.inputReports.length > 0);
    let status = entry.state;
    if (status === 'queued' && task?.status === 'running') status = 'running';
    return {
      ...entry,
      status,
      dependsOn: spec.dependsOn,
      outputs: spec.outputs,
      inputs: spec.inputs.map((input) => {
        const resolved = task?.inputs?.find((i) => i.name === input.name);
        const report = staged?.inputReports?.find((r) => r.name === input.name);
        return {
          name: input.name,
          fromTask: input.fromTask,
          sha256: resolved?.sha256,
          size: resolved?.size,
          cache: report ? (report.cacheHit ? ('hit' as const) : ('miss' as const)) : null,
        };
      }),
      workerId: last?.workerId,
      workerName: last?.workerName,
      attempts: attempts.map((a) => ({
        id: a.id,
        number: a.number,
        workerId: a.workerId,
        workerName: a.workerName,
        status: a.status,
        startedAt: a.startedAt,
        finishedAt: a.finishedAt,
        exitCode: a.exitCode,
        error: a.error,
        inputReports: a.inputReports,
      })),
    };
  }

  // ---------------------------------------------------------------- the engine

  private evaluateSoon(dagId: string): void {
    if (this.stopped || this.queued.has(dagId)) return;
    this.queued.add(dagId);
    this.serial.run(async () => {
      this.queued.delete(dagId);
      if (this.stopped) return;
      await this.step(dagId);
    }).catch((error: unknown) => this.logger.error({ err: error, dagId }, 'DAG evaluation failed'));
  }

  /**
   * One evaluation of a run: folds in the tasks that ended, then applies evaluateDag's answer
   * in one conditional commit (with the inserted tasks when some become ready).
   * `actor`: who cancels tasks (the user who asked; else the run's owner).
   */
  private async step(dagId: string, actor?: User): Promise<void> {
    const run = await this.store.getDag(dagId);
    if (!run || run.status !== 'running') return;
    const owner = (await this.store.getUser(run.userId)) ?? actor;
    if (!owner) {
      this.logger.error({ dagId, userId: run.userId }, 'the owner of a DAG run no longer exists; the run cannot go on');
      return;
    }
    const now = this.now();
    const tasks = run.tasks.map((entry) => ({ ...entry }));
    const byName = new Map(tasks.map((entry) => [entry.name, entry]));

    // 1. tasks whose Wharf task ended since the last evaluation
    for (const entry of tasks) {
      if (entry.taskId === undefined || TERMINAL_DAG_TASK_STATES.has(entry.state)) continue;
      const task = await this.store.getTask(entry.taskId);
      if (!task) {
        Object.assign(entry, { state: 'failed', reason: `task ${entry.taskId} is missing from the store`, finishedAt: now });
        continue;
      }
      if (!TERMINAL_TASK_STATUSES.has(task.status)) continue;
      entry.finishedAt = task.finishedAt ?? now;
      if (task.status === 'succeeded') {
        try {
          entry.artifacts = await this.registerOutputs(task, specOf(run, entry.name));
          entry.state = 'succeeded';
          entry.reason = undefined;
        } catch (error: unknown) {
          entry.state = 'failed';
          entry.reason = `its outputs could not be stored as artifacts: ${WharfError.from(error).message}`;
          this.logger.warn({ err: error, dagId, task: entry.name }, 'registering outputs failed');
        }
      } else {
        entry.state = task.status === 'cancelled' ? 'cancelled' : 'failed';
        entry.reason = task.reason;
      }
    }

    // 2. what happens next (pure)
    const graph = graphOf(run);
    const states = new Map(tasks.map((entry) => [entry.name, entry.state]));
    const evaluation = evaluateDag(graph, states, run.cancelRequested);
    for (const name of evaluation.toMarkUpstreamFailed) {
      const failedDeps = graph.dependenciesOf(name).filter((dep) => {
        const s = byName.get(dep)!.state;
        return s === 'failed' || s === 'cancelled' || s === 'upstream_failed';
      });
      Object.assign(byName.get(name)!, { state: 'upstream_failed', reason: `upstream ${failedDeps.map((d) => `"${d}"`).join(', ')} did not succeed`, finishedAt: now });
    }
    const toStop: string[] = [];
    for (const name of evaluation.toCancel) {
      const entry = byName.get(name)!;
      if (entry.state === 'pending') Object.assign(entry, { state: 'cancelled', reason: 'the DAG run was cancelled', finishedAt: now });
      else if (entry.taskId) toStop.push(entry.taskId);
    }
    const toQueue = evaluation.toQueue.map((name) => specOf(run, name));

    // 3. the run's status once this step is stored
    const allTerminal = tasks.every((entry) => TERMINAL_DAG_TASK_STATES.has(entry.state)) && toQueue.length === 0;
    let status: DagStatus = 'running';
    if (allTerminal) status = tasks.every((entry) => entry.state === 'succeeded') ? 'succeeded' : run.cancelRequested ? 'cancelled' : 'failed';
    const finishedAt = allTerminal ? Math.max(run.createdAt, ...tasks.map((entry) => entry.finishedAt ?? now)) : undefined;

    const changed = JSON.stringify(tasks) !== JSON.stringify(run.tasks) || status !== run.status || toQueue.length > 0;
    if (changed) {
      const update = (): StoreChange => {
        const patch: DagPatch = { tasks, status, version: run.version + 1, ...(finishedAt !== undefined ? { finishedAt } : {}) };
        return { kind: 'updateDag', dagId, expectStatus: ['running'], expectVersion: run.version, patch };
      };
      if (toQueue.length > 0) {
        const inputs = toQueue.map((spec) => this.taskInput(run, spec, byName));
        try {
          await this.tasks.submitMany(owner, inputs, {
            withinAcceptedRun: true,
            extraChanges: (created) => {
              created.forEach((task, i) => Object.assign(byName.get(toQueue[i]!.name)!, { state: 'queued', taskId: task.id }));
              return [update()];
            },
          });
        } catch (error: unknown) {
          if (!(error instanceof WharfError && error.code === 'conflict')) throw error;
          // the run changed under us (its version moved): nothing was stored; look again
          this.logger.warn({ dagId }, 'DAG run changed during evaluation; evaluating again');
          this.evaluateSoon(dagId);
          return;
        }
      } else if (!(await this.store.commit([update()]))) {
        this.logger.warn({ dagId }, 'DAG run changed during evaluation; evaluating again');
        this.evaluateSoon(dagId);
        return;
      }
      if (status !== 'running') this.logger.info({ dagId, name: run.name, status }, 'DAG run finished');
    }

    // 4. cancel what still runs (each cancel ends the task, which brings us back here)
    for (const taskId of toStop) {
      try {
        await this.tasks.cancel(actor ?? owner, taskId);
      } catch (error: unknown) {
        // already ended: its change notice evaluates the run again
        if (!(error instanceof WharfError && error.code === 'conflict')) this.logger.warn({ err: error, dagId, taskId }, 'could not cancel a DAG task');
      }
    }
  }

  /** A ready task as a submission: its spec plus the artifacts its inputs resolve to. */
  private taskInput(run: DagRun, spec: DagTaskSpec, byName?: ReadonlyMap<string, DagRunTask>): NewTask & DagTaskFields {
    const { dependsOn: _dependsOn, inputs: refs, outputs, ...fields } = spec;
    const inputs = refs.map((ref) => {
      const artifact = byName?.get(ref.fromTask)?.artifacts?.find((a) => a.name === ref.name);
      if (!artifact) throw new WharfError('internal', `DAG run ${run.id}: input "${ref.name}" of "${spec.name}" has no artifact from "${ref.fromTask}"`);
      return { name: ref.name, sha256: artifact.sha256, size: artifact.size, fromTask: ref.fromTask };
    });
    return {
      ...fields,
      dagId: run.id,
      dagTask: spec.name,
      ...(inputs.length > 0 ? { inputs } : {}),
      ...(outputs.length > 0 ? { outputs } : {}),
      useCache: run.useCache,
    };
  }

  /** Each declared output of a succeeded task, stored as an artifact (idempotent: content-addressed). */
  private async registerOutputs(task: Task, spec: DagTaskSpec): Promise<DagArtifact[]> {
    if (spec.outputs.length === 0) return [];
    const files = await this.store.listFiles({ taskId: task.id });
    const artifacts: DagArtifact[] = [];
    for (const name of spec.outputs) {
      const file = files.find((f) => f.path === name);
      // the task service fails an attempt that did not write a declared output; this is the backstop
      if (!file) throw new WharfError('not_found', `declared output "${name}" was not written to /output`);
      artifacts.push({ name, sha256: file.sha256, size: file.size });
      // S3: the worker PUT it into the bucket itself (confirmed when its result was applied),
      // or identical bytes were there already: nothing to move
      if (this.artifacts.kind === 's3' && (await this.artifacts.stat(file.sha256))?.size === file.size) continue;
      const { stream } = await this.files.openForDownload({ userId: task.userId, taskId: task.id, path: name });
      const filePath = String(stream.path);
      stream.destroy();
      // disk backend: verified, then hard-linked (no copy); S3 (a worker that did not upload
      // directly, e.g. one restarted while the task ran): verified, then uploaded from here
      await this.artifacts.put({ sha256: file.sha256, size: file.size }, { path: filePath });
    }
    return artifacts;
  }
}

function graphOf(run: DagRun): DagGraph {
  return DagGraph.of(run.spec.map((task) => ({ name: task.name, dependsOn: task.dependsOn })));
}

function statesOf(run: DagRun): Map<string, DagTaskState> {
  return new Map(run.tasks.map((entry) => [entry.name, entry.state]));
}

function specOf(run: DagRun, name: string): DagTaskSpec {
  const spec = run.spec.find((task) => task.name === name);
  if (!spec) throw new WharfError('internal', `DAG run ${run.id} has no task "${name}"`);
  return spec;
}
