// REST routes of user administration and the audit trail (docs/API.md, "Users" and "Audit log"),
// all admin-only. Transport only: validate, call UserAdmin / Invites / AuditTrail, shape the reply.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { parseAuditTime } from '../audit/audit-time.js';
import type { Invites } from '../auth/invites.js';
import { inviteState, MAX_INVITE_LIFETIME_MS } from '../auth/invites.js';
import type { UserAdmin } from '../auth/user-admin.js';
import { parseDurationMs } from '../config/durations.js';
import { WharfError } from '../errors.js';
import type { AuditEntry } from '../records/audit.js';
import type { InviteRecord } from '../records/invite.js';
import type { Store } from '../store/store.js';
import { describeIssues } from '../tasks/task-input.js';
import { auditAction, auditObject } from './audit-log.js';
import { requireAdmin } from './authenticate.js';
import { handle, parseBody } from './handle.js';
import { userView } from './views.js';

export interface UserRouteDeps {
  users: UserAdmin;
  invites: Invites;
  audit: AuditTrail;
  /** to find a user by email for `?user=` */
  store: Store;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function inviteView(invite: InviteRecord, now = Date.now()) {
  return {
    id: invite.id,
    email: invite.email,
    role: invite.role,
    createdBy: invite.createdBy,
    createdAt: iso(invite.createdAt),
    expiresAt: iso(invite.expiresAt),
    usedAt: iso(invite.usedAt),
    usedBy: invite.usedBy ?? null,
    revokedAt: iso(invite.revokedAt),
    state: inviteState(invite, now),
  };
}

export function auditEntryView(entry: AuditEntry) {
  return {
    id: entry.id,
    at: new Date(entry.at).toISOString(),
    userId: entry.userId ?? null,
    userEmail: entry.userEmail ?? null,
    address: entry.address,
    action: entry.action,
    object: entry.object ?? null,
    outcome: entry.outcome,
    status: entry.status,
  };
}

/** The dashboard's register page with the code (the code is in the fragment-free query; share it privately). */
export function inviteLink(origin: string, code: string): string {
  return `${origin}/register?invite=${encodeURIComponent(code)}`;
}

export const inviteSchema = z
  .object({
    email: z.email('must be an email address').max(254),
    role: z.enum(['admin', 'user'], 'must be admin or user').optional(),
    expiresIn: z
      .string()
      .max(32)
      .transform((value, ctx) => {
        const ms = parseDurationMs(value);
        if (!/^\d+(\.\d+)?(s|m|h|d)$/.test(value) || ms === undefined || ms < 60_000 || ms > MAX_INVITE_LIFETIME_MS) {
          ctx.addIssue({ code: 'custom', message: 'must be a duration from 1m to 90d, such as 24h or 7d' });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
  })
  .strict();

export const patchSchema = z
  .object({
    role: z.enum(['admin', 'user'], 'must be admin or user').optional(),
    disabled: z.boolean('must be true or false').optional(),
    // bytes of logs, outputs and artifacts the user may keep; null = back to WHARF_USER_STORAGE_QUOTA
    storageQuotaBytes: z
      .number('must be a number of bytes, or null for the master-wide quota')
      .int('must be a whole number of bytes')
      .min(0, 'must be at least 0')
      .max(Number.MAX_SAFE_INTEGER, 'is too large')
      .nullable()
      .optional(),
  })
  .strict()
  .refine(
    (body) => body.role !== undefined || body.disabled !== undefined || body.storageQuotaBytes !== undefined,
    'body: give role, disabled and/or storageQuotaBytes',
  );

export const auditQuery = z
  .object({
    user: z.string().min(1).max(254).optional(),
    action: z.string().regex(/^[a-z0-9.-]{1,64}$/, 'must be an action such as task.submit or user.delete').optional(),
    since: z.string().optional(),
    until: z.string().optional(),
    limit: z.coerce.number('must be a number').int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
    cursor: z.string().max(500).optional(),
  })
  .strict();

function idParam(req: Request, what: string): string {
  const value = req.params.id;
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new WharfError('validation_failed', `id: not ${what} id`);
  return value;
}

export function userRoutes(deps: UserRouteDeps): Router {
  const router = Router();
  router.get(
    '/users',
    handle(async (_req, res) => {
      requireAdmin(res);
      res.json({ users: (await deps.users.list()).map(userView) });
    }),
  );

  // invites before /users/:id, so "invites" is never taken for an id
  router.post(
    '/users/invites',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const input = parseBody(inviteSchema, req.body);
      const { invite, code } = await deps.invites.create(admin, { email: input.email, role: input.role, expiresInMs: input.expiresIn });
      auditObject(res, `invite:${invite.id}`);
      const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
      res.status(201).location(`/api/users/invites/${invite.id}`).json({ invite: inviteView(invite), code, link: inviteLink(origin, code) });
    }),
  );
  router.get(
    '/users/invites',
    handle(async (_req, res) => {
      requireAdmin(res);
      const now = Date.now();
      res.json({ invites: (await deps.invites.list()).map((invite) => inviteView(invite, now)) });
    }),
  );
  router.delete(
    '/users/invites/:id',
    handle(async (req, res) => {
      requireAdmin(res);
      res.json({ invite: inviteView(await deps.invites.revoke(idParam(req, 'an invite'))) });
    }),
  );

  router.get(
    '/users/:id',
    handle(async (req, res) => {
      requireAdmin(res);
      res.json({ user: userView(await deps.users.get(idParam(req, 'a user'))) });
    }),
  );
  router.patch(
    '/users/:id',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const id = idParam(req, 'a user');
      const change = parseBody(patchSchema, req.body);
      // the audit entry says what was asked: a role, a disable or an enable
      const actions = [
        ...(change.role !== undefined ? [`user.role.${change.role}`] : []),
        ...(change.disabled === true ? ['user.disable'] : change.disabled === false ? ['user.enable'] : []),
        ...(change.storageQuotaBytes !== undefined ? ['user.quota'] : []),
      ];
      auditAction(res, actions.length === 1 ? actions[0]! : 'user.update');
      res.json({ user: userView(await deps.users.update(admin, id, change)) });
    }),
  );
  router.delete(
    '/users/:id',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const result = await deps.users.delete(admin, idParam(req, 'a user'));
      res.json({ user: userView(result.user), cancelled: result.cancelled, apiTokensRevoked: result.apiTokens });
    }),
  );

  router.get(
    '/audit',
    handle(async (req, res) => {
      requireAdmin(res);
      const parsed = auditQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const query = parsed.data;
      const now = Date.now();
      let userId = query.user;
      if (userId !== undefined && userId.includes('@')) {
        // an email: the account's id (a deleted account's entries are found by its id)
        userId = (await deps.store.findUserByEmail(userId.toLowerCase()))?.id ?? `unknown:${userId}`;
      }
      const page = await deps.audit.list({
        userId,
        action: query.action,
        since: query.since === undefined ? undefined : parseAuditTime(query.since, 'since', now),
        until: query.until === undefined ? undefined : parseAuditTime(query.until, 'until', now),
        limit: query.limit,
        cursor: query.cursor,
      });
      res.json({ entries: page.entries.map(auditEntryView), nextCursor: page.nextCursor ?? null });
    }),
  );
  return router;
}
