// REST routes. Transport only: parse and validate, call the domain services, shape the reply.
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { AuthService } from '../auth/auth-service.js';
import { watchCredential } from '../auth/credential-watch.js';
import type { UserAdmin } from '../auth/user-admin.js';
import { TASK_SORTS, type Store, type TaskSort } from '../store/store.js';
import { parseAuditTime } from '../audit/audit-time.js';
import type { HeartbeatStats } from '../cluster/heartbeat-stats.js';
import type { JoinTokens } from '../cluster/join-tokens.js';
import type { WorkerIdentity } from '../cluster/worker-identity.js';
import type { LiveWorker, WorkerRegistry } from '../cluster/worker-registry.js';
import type { DagService } from '../dags/dag-service.js';
import type { GangService } from '../gangs/gang-service.js';
import { WharfError } from '../errors.js';
import type { FileStore } from '../files/file-store.js';
import { assertFilesKept } from '../files/files-removed.js';
import { normaliseOutputPath } from '../files/output-paths.js';
import { followTaskLogs } from '../logs/log-follower.js';
import type { LogStore } from '../logs/log-store.js';
import { TASK_STATUSES, type TaskStatus } from '../records/task.js';
import { describeIssues, parseTaskBatch, parseTaskInput } from '../tasks/task-input.js';
import type { TaskFilterRequest, TaskService } from '../tasks/task-service.js';
import type { RegistryCredentialService } from '../registries/registry-credential-service.js';
import type { QueueService } from '../queues/queue-service.js';
import type { TelemetryService } from '../telemetry/telemetry-service.js';
import { clusterRoutes, publicClusterRoutes, type ClusterInfo } from './cluster-routes.js';
import { handle, parseBody } from './handle.js';
import { answerLogLines, downloadRawLog, wantsLines } from './log-routes.js';
import { registryCredentialRoutes } from './registry-credential-routes.js';
import { queueRoutes } from './queue-routes.js';
import { apiTokenRoutes } from './token-routes.js';
import { auditObject, auditUser } from './audit-log.js';
import { bearerToken, clientKey, currentPrincipal, currentUser, requireAdmin, requireUser } from './authenticate.js';
import { userRoutes } from './user-routes.js';
import { dagRoutes } from './dag-routes.js';
import { gangRoutes } from './gang-routes.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { gcRoutes } from './gc-routes.js';
import type { GarbageCollector } from '../gc/garbage-collector.js';
import type { StorageUsage } from '../gc/storage-usage.js';
import { fileView, taskView, userView, workerView } from './views.js';

export interface RouteDeps {
  auth: AuthService;
  tasks: TaskService;
  registry: WorkerRegistry;
  logs: LogStore;
  files: FileStore;
  /** heartbeat handling times (GET /api/cluster/stats); absent = none recorded */
  heartbeatStats?: HeartbeatStats | undefined;
  /** worker telemetry and its history (GET /api/workers/:id/metrics, GET /telemetry) */
  telemetry: TelemetryService;
  /** DAG runs (POST/GET/DELETE /api/dags...); absent = no DAG routes */
  dags?: DagService | undefined;
  /** gangs (POST/GET/DELETE /api/gangs...); absent = no gang routes */
  gangs?: GangService | undefined;
  /** joining workers: join tokens, the join line and CA, worker removal; absent = no such routes */
  joinTokens?: JoinTokens | undefined;
  identity?: WorkerIdentity | undefined;
  cluster?: ClusterInfo | undefined;
  /** registry credentials (POST/GET/DELETE /api/registry-credentials); absent = no such routes */
  registryCredentials?: RegistryCredentialService | undefined;
  /** user administration and the audit trail (/api/users…, /api/audit); absent = no such routes */
  users?: UserAdmin | undefined;
  audit?: AuditTrail | undefined;
  store?: Store | undefined;
  /** queues and user limits (/api/queues, /api/user-limits); absent = no such routes */
  queues?: QueueService | undefined;
  /** retention and storage (POST /api/admin/gc, GET /api/usage); absent = no such routes */
  gc?: GarbageCollector | undefined;
  usage?: StorageUsage | undefined;
}

export const registerSchema = z.object({
  email: z.email('must be an email address').max(254),
  password: z.string().min(8, 'must be at least 8 characters').max(1024),
  name: z.string().trim().min(1).max(200).optional(),
  invite: z.string().min(1, 'is required').max(200).optional(),
});
export const loginSchema = z.object({ email: z.string().min(1, 'is required').max(254), password: z.string().min(1, 'is required').max(1024) });
export const logoutSchema = z.object({ everywhere: z.boolean('must be true or false').optional() }).strict();

/** What an open registration answers, for a free and a taken address alike. */
export const OPEN_REGISTRATION_MESSAGE =
  'if this address could be registered, its account now exists with this password: log in. An address that already has an account keeps its own password.';

const filterText = (what: string) => z.string().trim().min(1, 'must not be empty').max(254, `must be ${what} of at most 254 characters`).optional();

/**
 * GET /api/tasks and /api/tasks/counts: the filters (each given must hold). `status` is a
 * comma-separated list; `since`/`until` bound createdAt (ISO 8601 or a duration back from now).
 * Unknown parameters are refused, so a misspelt filter never silently lists everything.
 */
export const taskFilterQuery = z
  .object({
    status: z
      .string()
      .max(200)
      .transform((value, context) => {
        const statuses = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const unknown = statuses.filter((s) => !(TASK_STATUSES as readonly string[]).includes(s));
        if (statuses.length === 0 || unknown.length > 0) {
          context.addIssue({ code: 'custom', message: `must be one or more of ${TASK_STATUSES.join(', ')}, comma-separated${unknown.length ? ` (got ${unknown.map((s) => JSON.stringify(s)).join(', ')})` : ''}` });
          return z.NEVER;
        }
        return [...new Set(statuses)] as TaskStatus[];
      })
      .optional(),
    worker: filterText('a worker id or name'),
    user: filterText('a user id or email'),
    queue: filterText('a queue name'),
    dag: filterText('a DAG run id'),
    image: filterText('an image'),
    name: filterText('a part of a task name'),
    since: z.string().max(64).optional(),
    until: z.string().max(64).optional(),
  })
  .strict();

export const listQuery = taskFilterQuery.extend({
  sort: z.enum(TASK_SORTS as [TaskSort, ...TaskSort[]], `must be one of ${TASK_SORTS.join(', ')}`).optional(),
  limit: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
  cursor: z.string().max(500).optional(),
});

/** A parsed filter query as the task service takes it (times as epoch ms). */
function taskFilterOf(query: z.infer<typeof taskFilterQuery>, now: number): TaskFilterRequest {
  return {
    statuses: query.status,
    worker: query.worker,
    user: query.user?.includes('@') ? query.user.toLowerCase() : query.user,
    queue: query.queue,
    dagId: query.dag,
    image: query.image,
    name: query.name,
    since: query.since === undefined ? undefined : parseAuditTime(query.since, 'since', now),
    until: query.until === undefined ? undefined : parseAuditTime(query.until, 'until', now),
  };
}

function param(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new WharfError('validation_failed', `${name}: invalid`);
  }
  return value;
}

export function apiRoutes(deps: RouteDeps): Router {
  const { auth, tasks, registry, files } = deps;
  const router = Router();

  router.post(
    '/auth/register',
    handle(async (req, res) => {
      const input = parseBody(registerSchema, req.body);
      const result = await auth.register(input, clientKey(req));
      if (result.via === 'invite' && result.user && result.token) {
        auditUser(res, result.user);
        res.status(201).json({ user: userView(result.user), token: result.token });
        return;
      }
      // the same answer whether the address was free or taken (no enumeration)
      res.status(202).json({ status: 'accepted', message: OPEN_REGISTRATION_MESSAGE });
    }),
  );
  router.post(
    '/auth/login',
    handle(async (req, res) => {
      const input = parseBody(loginSchema, req.body);
      const result = await auth.login(input, clientKey(req));
      auditUser(res, result.user);
      res.json({ user: userView(result.user), token: result.token });
    }),
  );
  // the address an invite is for, so the register page can show it (no token needed: the code is the secret)
  router.get(
    '/auth/invites/:code',
    handle(async (req, res) => {
      const code = req.params.code;
      if (typeof code !== 'string' || code.length > 200) throw new WharfError('validation_failed', 'code: not an invite code');
      const invite = await auth.lookUpInvite(code, clientKey(req));
      res.json({ invite: { email: invite.email, role: invite.role, expiresAt: new Date(invite.expiresAt).toISOString() } });
    }),
  );
  router.get('/auth/config', (_req, res) => {
    res.json({ registration: auth.registration, sessionMaxAgeSeconds: Math.floor(auth.sessionMaxAgeMs / 1000) });
  });

  if (deps.cluster) router.use(publicClusterRoutes(deps.cluster));

  router.use(requireUser(auth));
  if (deps.dags) router.use(dagRoutes(deps.dags));
  if (deps.gangs) router.use(gangRoutes(deps.gangs));
  router.use(apiTokenRoutes(auth.apiTokens));
  if (deps.joinTokens && deps.identity && deps.cluster) {
    router.use(clusterRoutes({ joinTokens: deps.joinTokens, identity: deps.identity, cluster: deps.cluster }));
  }
  if (deps.registryCredentials) router.use(registryCredentialRoutes(deps.registryCredentials));
  router.use(deadLetterRoutes(tasks));
  if (deps.gc && deps.usage && deps.store) router.use(gcRoutes({ gc: deps.gc, usage: deps.usage, store: deps.store }));
  if (deps.queues) router.use(queueRoutes(deps.queues));

  router.get('/auth/me', handle((_req, res) => void res.json({ user: userView(currentUser(res)) })));
  router.post(
    '/auth/logout',
    handle(async (req, res) => {
      const input = parseBody(logoutSchema, req.body ?? {});
      await auth.logout(currentPrincipal(res), bearerToken(req) ?? '', { everywhere: input.everywhere });
      res.status(204).end();
    }),
  );
  router.post(
    '/auth/refresh',
    handle(async (req, res) => {
      const result = await auth.refresh(currentPrincipal(res), bearerToken(req) ?? '');
      res.json({ user: userView(result.user), token: result.token });
    }),
  );
  if (deps.users && deps.audit && deps.store) {
    router.use(userRoutes({ users: deps.users, invites: auth.invites, audit: deps.audit, store: deps.store }));
  }

  router.post(
    '/tasks',
    handle(async (req, res) => {
      const task = await tasks.submit(currentUser(res), parseTaskInput(req.body));
      auditObject(res, `task:${task.id}`);
      res.status(201).location(`/api/tasks/${task.id}`).json({ task: taskView(task) });
    }),
  );
  // "will it fit?": validated as a submission, nothing stored (scheduler/fit-check.ts)
  router.post(
    '/tasks/fit',
    handle((req, res) => {
      res.json(tasks.checkFit(currentUser(res), parseTaskInput(req.body)));
    }),
  );
  router.post(
    '/tasks/batch',
    handle(async (req, res) => {
      const created = await tasks.submitMany(currentUser(res), parseTaskBatch(req.body));
      auditObject(res, `tasks:${created.length}`);
      res.status(201).json({ tasks: created.map(taskView) });
    }),
  );
  router.get(
    '/tasks',
    handle(async (req, res) => {
      const parsed = listQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const { sort, limit, cursor, ...filter } = parsed.data;
      const page = await tasks.list(currentUser(res), { ...taskFilterOf(filter, Date.now()), sort, limit, cursor });
      res.json({ tasks: page.tasks.map(taskView), nextCursor: page.nextCursor ?? null, total: page.total });
    }),
  );
  // per-status counts of the tasks the same filters match (one request for the dashboard)
  router.get(
    '/tasks/counts',
    handle(async (req, res) => {
      const parsed = taskFilterQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const counts = await tasks.countTasks(currentUser(res), taskFilterOf(parsed.data, Date.now()));
      res.json({ counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) });
    }),
  );
  router.get(
    '/tasks/:id',
    handle(async (req, res) => {
      res.json({ task: taskView(await tasks.get(currentUser(res), param(req, 'id'))) });
    }),
  );
  router.delete(
    '/tasks/:id',
    handle(async (req, res) => {
      const task = await tasks.cancel(currentUser(res), param(req, 'id'));
      res.status(202).json({ task: taskView(task) });
    }),
  );
  router.get(
    '/tasks/:id/logs',
    handle(async (req, res) => {
      const follow = req.query.follow === 'true' || req.query.follow === '1';
      const details = await tasks.get(currentUser(res), param(req, 'id'));
      assertFilesKept(details);
      if (wantsLines(req.query)) {
        if (follow) throw new WharfError('validation_failed', 'follow: answers the text log; it cannot be combined with grep, stream, attempt, after, limit or format');
        await answerLogLines(details, req.query, deps.logs, res);
        return;
      }
      streamLogs(details.id, details.attempts.map((a) => ({ id: a.id, number: a.number, workerId: a.workerId })), follow, deps, req, res);
    }),
  );
  router.get(
    '/tasks/:id/logs/raw',
    handle(async (req, res) => {
      const details = await tasks.get(currentUser(res), param(req, 'id'));
      assertFilesKept(details);
      await downloadRawLog(details, req.query, deps.logs, res);
    }),
  );

  /** The worker as the API shows it, or 404. */
  const shownWorker = (worker: LiveWorker | undefined, id: string) => {
    if (!worker) throw new WharfError('not_found', `worker ${id} not found`);
    return workerView(worker, tasks.attemptsByWorker().get(worker.record.id) ?? 0, tasks.gpuIdsInUse(worker.record.id));
  };
  router.get(
    '/workers',
    handle((_req, res) => {
      const running = tasks.attemptsByWorker();
      res.json({ workers: registry.list().map((w) => workerView(w, running.get(w.record.id) ?? 0, tasks.gpuIdsInUse(w.record.id))) });
    }),
  );
  router.get(
    '/workers/:id',
    handle((req, res) => {
      const id = param(req, 'id');
      res.json({ worker: shownWorker(registry.get(id), id) });
    }),
  );
  // a history ring per worker for charts: at heartbeat resolution, at least the last 15 minutes
  router.get(
    '/workers/:id/metrics',
    handle((req, res) => {
      const id = param(req, 'id');
      const since = req.query.since;
      let sinceMs: number | undefined;
      if (since !== undefined) {
        sinceMs = typeof since === 'string' && since.length <= 64 ? Date.parse(since) : Number.NaN;
        if (Number.isNaN(sinceMs)) throw new WharfError('validation_failed', 'since: must be an ISO 8601 time such as 2025-01-31T12:00:00Z');
      }
      const history = deps.telemetry.history(id, sinceMs);
      if (!history) throw new WharfError('not_found', `worker ${id} not found`);
      res.json(history);
    }),
  );
  // what happened to a worker (joined, drained, lost, removed, ...) and its recent tasks; a
  // removed worker's history stays readable. A user sees only their own tasks among them.
  if (deps.store) {
    const store = deps.store;
    const historyQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
    router.get(
      '/workers/:id/history',
      handle(async (req, res) => {
        const id = param(req, 'id');
        const parsed = historyQuery.safeParse(req.query);
        if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
        const { limit } = parsed.data;
        const user = currentUser(res);
        const events = await store.listWorkerEvents(id, limit);
        if (events.length === 0 && !registry.get(id)) throw new WharfError('not_found', `worker ${id} not found`);
        const attempts = await store.listAttemptsOfWorker(id, limit);
        const recentTasks = [];
        for (const attempt of attempts) {
          const task = await store.getTask(attempt.taskId);
          if (!task || (user.role !== 'admin' && task.userId !== user.id)) continue;
          recentTasks.push({
            taskId: task.id,
            name: task.name,
            taskStatus: task.status,
            attempt: attempt.number,
            attemptStatus: attempt.status,
            createdAt: new Date(attempt.createdAt).toISOString(),
            startedAt: attempt.startedAt === undefined ? null : new Date(attempt.startedAt).toISOString(),
            finishedAt: attempt.finishedAt === undefined ? null : new Date(attempt.finishedAt).toISOString(),
          });
        }
        res.json({
          events: events.map((e) => ({ at: new Date(e.at).toISOString(), kind: e.kind, detail: e.detail ?? null })),
          recentTasks,
        });
      }),
    );
  }
  // drain: no new tasks are placed on the worker; activate: undo a drain
  for (const [action, draining] of [['drain', true], ['activate', false]] as const) {
    router.post(
      `/workers/:id/${action}`,
      handle(async (req, res) => {
        requireAdmin(res);
        const id = param(req, 'id');
        res.status(202).json({ worker: shownWorker(await registry.setDraining(id, draining), id) });
      }),
    );
  }

  // admin: load figures for operators and the benchmark harness
  router.get(
    '/cluster/stats',
    handle((_req, res) => {
      requireAdmin(res);
      const heartbeats = deps.heartbeatStats?.view() ?? { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
      res.json({ heartbeats, workers: registry.counts(), tasks: tasks.counts() });
    }),
  );

  router.get(
    '/files',
    handle(async (_req, res) => {
      res.json({ files: (await tasks.listFiles(currentUser(res))).map(fileView) });
    }),
  );
  router.get(
    '/files/:taskId',
    handle(async (req, res) => {
      const user = currentUser(res);
      const task = await tasks.visibleTask(user, param(req, 'taskId'));
      assertFilesKept(task);
      res.json({ files: (await tasks.listFiles(user, task.id)).map(fileView) });
    }),
  );
  router.get(
    '/files/:taskId/download/*path',
    handle(async (req, res) => {
      const user = currentUser(res);
      const task = await tasks.visibleTask(user, param(req, 'taskId'));
      assertFilesKept(task);
      const segments = (req.params as Record<string, unknown>).path;
      const path = Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
      const wanted = normaliseOutputPath(path);
      const record = (await tasks.listFiles(user, task.id)).find((f) => f.path === wanted);
      if (!record) throw new WharfError('not_found', `file ${wanted} not found`);
      const { stream, size } = await files.openForDownload({ userId: task.userId, taskId: task.id, path: wanted });
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(size));
      res.setHeader('Content-Disposition', `attachment; filename="${encodeURIComponent(wanted.split('/').pop() ?? 'file')}"`);
      res.setHeader('X-Wharf-Sha256', record.sha256);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    }),
  );
  return router;
}

/**
 * Writes a task's stored log, then (with follow) live chunks until the task is terminal.
 * Attempts after the first are separated by a marker line. A followed stream also ends when the
 * token it was opened with expires or is revoked, with a last line saying so.
 */
function streamLogs(
  taskId: string,
  attempts: { id: string; number: number; workerId: string }[],
  follow: boolean,
  deps: RouteDeps,
  req: Request,
  res: Response,
): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  let lastAttempt: string | undefined;
  let stopWatch: () => void = () => undefined;
  // stored chunks, then (with follow) live ones until the task is terminal (logs/log-follower.ts)
  const stop = followTaskLogs(deps, taskId, attempts, follow, {
    chunk(entry, attempt) {
      if (lastAttempt !== entry.attemptId && (lastAttempt !== undefined || attempts.length > 1)) {
        res.write(`--- attempt ${attempt?.number ?? '?'}${attempt ? ` on worker ${attempt.workerId}` : ''} ---\n`);
      }
      lastAttempt = entry.attemptId;
      res.write(entry.data);
    },
    end: () => {
      stopWatch();
      res.end();
    },
  });
  if (follow && !res.writableEnded) {
    // the stream ends with the token it was opened with (auth/credential-watch.ts)
    stopWatch = watchCredential(deps.auth, currentPrincipal(res), (end) => {
      stop();
      if (res.writableEnded) return;
      res.write(`\n--- stream closed: ${end.reason}; log in again to follow on ---\n`);
      res.end();
    });
  }
  if (!res.writableEnded) res.flushHeaders();
  req.on('close', () => {
    stop();
    stopWatch();
  });
}
