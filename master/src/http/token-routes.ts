// REST routes of API tokens (docs/API.md, "API tokens"). Transport only: validate, call the
// ApiTokenService, shape the reply. Mounted by routes.ts after authentication, so an API token
// may itself create, list and revoke tokens of its user.
import { Router, type Request } from 'express';
import { parseDurationMs } from '@wharf/proto/units';
import { z } from 'zod';
import type { ApiTokenService } from '../auth/api-token-service.js';
import type { ApiTokenRecord } from '../records/api-token.js';
import { WharfError } from '../errors.js';
import { describeIssues } from '../tasks/task-input.js';
import { auditObject } from './audit-log.js';
import { currentUser } from './authenticate.js';
import { handle } from './handle.js';

const DAY_MS = 86_400_000;
/** lifetime when `expiresIn` is not given */
export const DEFAULT_API_TOKEN_LIFETIME = '30d';
const MAX_LIFETIME_MS = 3650 * DAY_MS;

export const createSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'is required')
      .max(100, 'at most 100 characters')
      .regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
    expiresIn: z
      .string()
      .max(32)
      .regex(/^(never|\d+(\.\d+)?(s|m|h|d))$/, 'must be a duration such as 12h, 30d or 90d, or "never"')
      .default(DEFAULT_API_TOKEN_LIFETIME),
  })
  .strict();
export const listQuery = z.object({ all: z.enum(['true', 'false', '1', '0']).optional() });

export function apiTokenView(token: ApiTokenRecord) {
  return {
    id: token.id,
    name: token.name,
    userId: token.userId,
    hint: `${token.hint}…`,
    createdAt: new Date(token.createdAt).toISOString(),
    expiresAt: token.expiresAt === undefined ? null : new Date(token.expiresAt).toISOString(),
    lastUsedAt: token.lastUsedAt === undefined ? null : new Date(token.lastUsedAt).toISOString(),
  };
}

function tokenId(req: Request): string {
  const value = req.params.id;
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new WharfError('validation_failed', 'id: not an API token id');
  return value;
}

export function apiTokenRoutes(tokens: ApiTokenService): Router {
  const router = Router();
  router.post(
    '/tokens',
    handle(async (req, res) => {
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
        throw new WharfError('validation_failed', 'body: must be a JSON object');
      }
      const parsed = createSchema.safeParse(req.body);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const { name, expiresIn } = parsed.data;
      let expiresInMs: number | undefined;
      if (expiresIn !== 'never') {
        expiresInMs = parseDurationMs(expiresIn);
        if (expiresInMs === undefined || expiresInMs < 1000 || expiresInMs > MAX_LIFETIME_MS) {
          throw new WharfError('validation_failed', `expiresIn: must be between 1s and 3650d, or "never" (got "${expiresIn}")`);
        }
      }
      const created = await tokens.create(currentUser(res), { name, expiresInMs });
      auditObject(res, `api-token:${created.token.id}`);
      res.status(201).location(`/api/tokens/${created.token.id}`).json({ token: apiTokenView(created.token), secret: created.secret });
    }),
  );
  router.get(
    '/tokens',
    handle(async (req, res) => {
      const parsed = listQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', `all: must be true or false`);
      const all = parsed.data.all === 'true' || parsed.data.all === '1';
      res.json({ tokens: (await tokens.list(currentUser(res), { all })).map(apiTokenView) });
    }),
  );
  router.delete(
    '/tokens/:id',
    handle(async (req, res) => {
      res.json({ token: apiTokenView(await tokens.revoke(currentUser(res), tokenId(req))) });
    }),
  );
  return router;
}
