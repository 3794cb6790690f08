// REST routes of retention and storage (docs/API.md, "Retention and storage"): a garbage-collection
// run on demand (admins; ?dryRun=true reports what a run would remove and removes nothing), and
// per-user storage usage with each user's quota. Transport only: validate, call gc/, shape the reply.
import { Router } from 'express';
import { z } from 'zod';
import { notFound, WharfError } from '../errors.js';
import type { GarbageCollector, GcReport } from '../gc/garbage-collector.js';
import { StorageUsage, type UserUsage } from '../gc/storage-usage.js';
import type { User } from '../records/user.js';
import type { Store } from '../store/store.js';
import { describeIssues } from '../tasks/task-input.js';
import { auditObject } from './audit-log.js';
import { currentUser, requireAdmin } from './authenticate.js';
import { handle } from './handle.js';

export const gcQuery = z
  .object({
    dryRun: z.enum(['true', 'false'], 'must be true or false').optional(),
  })
  .strict();

export const usageQuery = z
  .object({
    user: z.string().min(1).max(254).optional().describe('a user id or email (admins: anyone; users: themselves)'),
  })
  .strict();

export function gcReportView(report: GcReport) {
  return {
    removed: report.removed,
    bytesFreed: report.bytesFreed,
    dryRun: report.dryRun,
    durationMs: report.durationMs,
    startedAt: new Date(report.startedAt).toISOString(),
  };
}

function usageView(usage: UserUsage, user: User | undefined, quotaBytes: number | undefined) {
  return {
    userId: usage.userId,
    email: user?.email ?? null,
    logBytes: usage.logBytes,
    outputBytes: usage.outputBytes,
    artifactBytes: usage.artifactBytes,
    totalBytes: usage.totalBytes,
    quotaBytes: quotaBytes ?? null,
  };
}

export interface GcRouteDeps {
  gc: GarbageCollector;
  usage: StorageUsage;
  store: Pick<Store, 'getUser' | 'findUserByEmail' | 'listUsers'>;
}

export function gcRoutes(deps: GcRouteDeps): Router {
  const router = Router();
  router.post(
    '/admin/gc',
    handle(async (req, res) => {
      requireAdmin(res);
      const parsed = gcQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const dryRun = parsed.data.dryRun === 'true';
      auditObject(res, dryRun ? 'gc:dry-run' : 'gc:run');
      res.json(gcReportView(await deps.gc.run({ dryRun })));
    }),
  );
  router.get(
    '/usage',
    handle(async (req, res) => {
      const me = currentUser(res);
      const parsed = usageQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const wanted = parsed.data.user;
      const measure = await deps.usage.current();
      const one = async (user: User) => usageView(StorageUsage.of(measure, user.id), user, deps.usage.quotaOf(user));
      let users: User[];
      if (wanted !== undefined) {
        const found = wanted.includes('@') ? await deps.store.findUserByEmail(wanted.trim().toLowerCase()) : await deps.store.getUser(wanted);
        // another user's figures are an admin's to see: to a user they do not exist
        if (!found || (me.role !== 'admin' && found.id !== me.id)) throw notFound(`user ${wanted}`);
        users = [found];
      } else {
        users = me.role === 'admin' ? await deps.store.listUsers() : [me];
      }
      const shown = await Promise.all(users.map(one));
      // bytes of owners no longer registered (deleted accounts keep their tasks) are shown too, to admins
      if (me.role === 'admin' && wanted === undefined) {
        const known = new Set(users.map((u) => u.id));
        for (const usage of measure.users.values()) if (!known.has(usage.userId)) shown.push(usageView(usage, undefined, undefined));
      }
      res.json({ users: shown, measuredAt: new Date(measure.measuredAt).toISOString() });
    }),
  );
  return router;
}
