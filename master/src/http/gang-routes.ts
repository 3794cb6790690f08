// REST routes of gangs (docs/API.md, "Gangs"). Transport only: parse, call the gang service,
// shape the reply. Mounted by routes.ts after authentication.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import { parseGangInput } from '../gangs/gang-input.js';
import type { GangDetails, GangService } from '../gangs/gang-service.js';
import { GANG_STATUSES, type Gang, type GangStatus } from '../records/gang.js';
import { describeIssues } from '../tasks/task-input.js';
import { auditObject } from './audit-log.js';
import { currentUser } from './authenticate.js';
import { handle } from './handle.js';

export const gangListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  status: z.enum(GANG_STATUSES as [GangStatus, ...GangStatus[]]).optional(),
});

function gangIdParam(req: Request): string {
  const value = req.params.id;
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(value)) throw new WharfError('validation_failed', 'id: invalid');
  return value;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** A gang as lists show it (members as task ids in rank order). */
export function gangSummaryView(gang: Gang) {
  return {
    id: gang.id,
    name: gang.name,
    userId: gang.userId,
    status: gang.status,
    size: gang.size,
    policy: gang.policy,
    gangTimeoutSeconds: gang.timeoutSeconds,
    maxRestarts: gang.maxRestarts,
    restartsUsed: gang.restartsUsed,
    port: gang.port,
    reason: gang.reason ?? null,
    createdAt: iso(gang.createdAt)!,
    placedAt: iso(gang.placedAt),
    finishedAt: iso(gang.finishedAt),
    memberIds: [...gang.memberIds],
  };
}

/** A gang with its members: each member's task, rank, status, worker and reason. */
export function gangView(details: GangDetails) {
  return {
    ...gangSummaryView(details),
    members: details.members.map((member) => ({
      rank: member.rank,
      taskId: member.taskId,
      name: member.name,
      status: member.status,
      workerId: member.workerId ?? null,
      reason: member.reason ?? null,
      attemptCount: member.attemptCount,
    })),
  };
}

export function gangRoutes(gangs: GangService): Router {
  const router = Router();
  router.post(
    '/gangs',
    handle(async (req, res) => {
      const gang = await gangs.submit(currentUser(res), parseGangInput(req.body));
      auditObject(res, `gang:${gang.id}`);
      res.status(201).location(`/api/gangs/${gang.id}`).json({ gang: gangView(gang) });
    }),
  );
  router.get(
    '/gangs',
    handle(async (req, res) => {
      const parsed = gangListQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const list = await gangs.list(currentUser(res), parsed.data);
      res.json({ gangs: list.map(gangSummaryView) });
    }),
  );
  router.get(
    '/gangs/:id',
    handle(async (req, res) => {
      res.json({ gang: gangView(await gangs.get(currentUser(res), gangIdParam(req))) });
    }),
  );
  router.delete(
    '/gangs/:id',
    handle(async (req, res) => {
      res.status(202).json({ gang: gangView(await gangs.cancel(currentUser(res), gangIdParam(req))) });
    }),
  );
  return router;
}
