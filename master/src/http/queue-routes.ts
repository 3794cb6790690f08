// REST routes of queues and user limits (docs/API.md, "Queues"). Transport only: validate, call
// the QueueService, shape the reply. Changes are for admins (403 otherwise); any signed-in user
// may read the queues, seeing only their own line of the per-user usage. Mounted by routes.ts
// after authentication.
import { Router, type Request } from 'express';
import { WharfError } from '../errors.js';
import type { QueueRecord, UserLimitRecord } from '../records/queue.js';
import type { User } from '../records/user.js';
import { createQueueSchema, patchQueueSchema, userLimitSchema } from '../queues/queue-input.js';
import type { QueueService, QueueWithStatus } from '../queues/queue-service.js';
import { QUEUE_NAME } from '../tasks/task-input.js';
import { currentUser, requireAdmin } from './authenticate.js';
import { handle, parseBody } from './handle.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function queueRecordView(queue: QueueRecord) {
  return {
    name: queue.name,
    description: queue.description ?? null,
    maxConcurrency: queue.maxConcurrency ?? null,
    maxTasks: queue.maxTasks ?? null,
    maxCpu: queue.maxCpu ?? null,
    maxMemory: queue.maxMemory ?? null,
    maxGpus: queue.maxGpus ?? null,
    defaultPriority: queue.defaultPriority,
    preemptionPolicy: queue.preemptionPolicy,
    strategy: queue.strategy,
    workerSelector: queue.workerSelector,
    constraints: queue.constraints,
    createdAt: iso(queue.createdAt),
    updatedAt: iso(queue.updatedAt),
  };
}

export function queueView({ queue, status }: QueueWithStatus, viewer: User) {
  const users = viewer.role === 'admin' ? status.users : status.users.filter((u) => u.userId === viewer.id);
  return {
    ...queueRecordView(queue),
    usage: { queued: status.queued, running: status.running, cpu: status.cpu, memory: status.memory, gpu: status.gpu },
    users,
  };
}

export function userLimitView(limit: UserLimitRecord) {
  return {
    userId: limit.userId,
    queue: limit.queue ?? null,
    maxRunning: limit.maxRunning ?? null,
    maxCpu: limit.maxCpu ?? null,
    maxMemory: limit.maxMemory ?? null,
    maxGpus: limit.maxGpus ?? null,
    weight: limit.weight ?? 1,
    updatedAt: iso(limit.updatedAt),
  };
}

function queueName(req: Request): string {
  const value = req.params.name;
  if (typeof value !== 'string' || !QUEUE_NAME.test(value)) throw new WharfError('validation_failed', 'name: not a queue name');
  return value;
}

function userRef(req: Request): string {
  const value = req.params.user;
  if (typeof value !== 'string' || value.length === 0 || value.length > 254) throw new WharfError('validation_failed', 'user: give a user id or email');
  return value;
}

export function queueRoutes(queues: QueueService): Router {
  const router = Router();
  router.get(
    '/queues',
    handle((_req, res) => {
      const viewer = currentUser(res);
      res.json({ queues: queues.list().map((q) => queueView(q, viewer)) });
    }),
  );
  router.get(
    '/queues/:name',
    handle((req, res) => {
      res.json({ queue: queueView(queues.get(queueName(req)), currentUser(res)) });
    }),
  );
  router.post(
    '/queues',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      if (Array.isArray(req.body)) throw new WharfError('validation_failed', 'body: must be a JSON object');
      const created = await queues.create(parseBody(createQueueSchema, req.body));
      res.status(201).location(`/api/queues/${created.queue.name}`).json({ queue: queueView(created, admin) });
    }),
  );
  router.patch(
    '/queues/:name',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const name = queueName(req);
      if (Array.isArray(req.body)) throw new WharfError('validation_failed', 'body: must be a JSON object');
      res.json({ queue: queueView(await queues.update(name, parseBody(patchQueueSchema, req.body)), admin) });
    }),
  );
  router.delete(
    '/queues/:name',
    handle(async (req, res) => {
      requireAdmin(res);
      res.json({ queue: queueRecordView(await queues.remove(queueName(req))) });
    }),
  );
  router.get(
    '/user-limits',
    handle((_req, res) => {
      requireAdmin(res);
      res.json({ limits: queues.userLimits().map(userLimitView) });
    }),
  );
  for (const path of ['/user-limits/:user', '/queues/:name/users/:user']) {
    const queueOf = (req: Request): string | undefined => (path.startsWith('/queues') ? queueName(req) : undefined);
    router.put(
      path,
      handle(async (req, res) => {
        requireAdmin(res);
        const queue = queueOf(req);
        if (Array.isArray(req.body)) throw new WharfError('validation_failed', 'body: must be a JSON object');
        const input = parseBody(userLimitSchema, req.body);
        const userId = await queues.resolveUser(userRef(req));
        res.json({ limit: userLimitView(await queues.putUserLimit(userId, queue, input)) });
      }),
    );
    router.delete(
      path,
      handle(async (req, res) => {
        requireAdmin(res);
        const queue = queueOf(req);
        await queues.deleteUserLimit(await queues.resolveUser(userRef(req)), queue);
        res.status(204).end();
      }),
    );
  }
  return router;
}
