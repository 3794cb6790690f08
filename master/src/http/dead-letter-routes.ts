// REST routes of dead letters (docs/API.md, "Dead letters"): tasks that failed through their
// retry policy, listed with their last error and attempts, re-queued as the same task or
// dismissed, alone or in bulk. Transport only: validate, call the task service, shape the reply.
// Mounted by routes.ts after authentication; users act on their own tasks, admins on any.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import { MAX_DEAD_LETTER_BULK as MAX_BULK, type DeadLetter, type DeadLetterSelection, type TaskService } from '../tasks/task-service.js';
import { describeIssues } from '../tasks/task-input.js';
import { currentUser } from './authenticate.js';
import { handle, parseBody } from './handle.js';
import { attemptView, taskView } from './views.js';

export const filterSchema = z.object({ image: z.string().min(1).max(512).optional(), name: z.string().min(1).max(200).optional() }).strict();
export const listQuery = filterSchema.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});
export const selectionSchema = z.union([
  z.object({ taskIds: z.array(z.string().min(1).max(64)).min(1, 'must name at least one task').max(MAX_BULK) }).strict(),
  z.object({ filter: filterSchema }).strict(),
]);

/** A dead letter on the API: the task (its attempts with it) and its last error. */
export function deadLetterView(deadLetter: DeadLetter) {
  return {
    ...taskView(deadLetter.task),
    attempts: deadLetter.attempts.map(attemptView),
    lastError: deadLetter.lastError ?? null,
  };
}

function taskId(req: Request): string {
  const value = req.params.taskId;
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw new WharfError('validation_failed', 'taskId: not a task id');
  return value;
}

/** `{taskIds: [...]}` or `{filter: {image?, name?}}` ({filter: {}}: every dead letter the caller may see). */
function selection(body: unknown): DeadLetterSelection {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && !('taskIds' in body) && !('filter' in body)) {
    throw new WharfError('validation_failed', 'body: give taskIds (a list of task ids) or filter ({image?, name?}; {} takes every dead letter you may see)');
  }
  return parseBody(selectionSchema, body);
}

export function deadLetterRoutes(tasks: TaskService): Router {
  const router = Router();
  router.get(
    '/dead-letters',
    handle(async (req, res) => {
      const parsed = listQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const page = await tasks.listDeadLetters(currentUser(res), parsed.data);
      res.json({ deadLetters: page.deadLetters.map(deadLetterView), nextCursor: page.nextCursor ?? null });
    }),
  );
  router.post(
    '/dead-letters/requeue',
    handle(async (req, res) => {
      const answer = await tasks.requeueDeadLetters(currentUser(res), selection(req.body));
      res.json({ requeued: answer.done, skipped: answer.skipped, more: answer.more });
    }),
  );
  router.post(
    '/dead-letters/dismiss',
    handle(async (req, res) => {
      const answer = await tasks.dismissDeadLetters(currentUser(res), selection(req.body));
      res.json({ dismissed: answer.done, skipped: answer.skipped, more: answer.more });
    }),
  );
  router.post(
    '/dead-letters/:taskId/requeue',
    handle(async (req, res) => {
      res.json({ task: taskView(await tasks.requeueDeadLetter(currentUser(res), taskId(req))) });
    }),
  );
  router.delete(
    '/dead-letters/:taskId',
    handle(async (req, res) => {
      res.json({ task: taskView(await tasks.dismissDeadLetter(currentUser(res), taskId(req))) });
    }),
  );
  return router;
}
