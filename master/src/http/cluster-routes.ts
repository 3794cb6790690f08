// REST routes for joining workers (docs/API.md): join tokens (admin), the join lines (runWorker.sh
// and the one-line join) and the CA (for the dashboard, curl and workers given --ca-file), and
// removing a worker. Transport only:
// cluster/join-tokens.ts and cluster/worker-identity.ts hold the rules.
import { Router } from 'express';
import { z } from 'zod';
import type { JoinTokenRecord } from '../records/credentials.js';
import type { JoinTokens } from '../cluster/join-tokens.js';
import type { WorkerIdentity } from '../cluster/worker-identity.js';
import { parseDurationMs } from '../config/durations.js';
import { WharfError } from '../errors.js';
import { auditObject } from './audit-log.js';
import { requireAdmin } from './authenticate.js';
import { handle, parseBody } from './handle.js';
import { describeOneLineJoin, type OneLineJoin } from './join-routes.js';

/** What the routes need to know about joining this master. */
export interface ClusterInfo {
  /** the address workers dial (host:port) */
  grpcAddress(): string;
  /** `sha256:…` of the serving CA */
  caHash: string;
  /** the serving CA, PEM */
  caCertificatePem: string;
  /** the one-line join (GET /join.sh); absent = not served */
  oneLine?: OneLineJoin | undefined;
}

export interface ClusterRouteDeps {
  joinTokens: JoinTokens;
  identity: WorkerIdentity;
  cluster: ClusterInfo;
}

const MAX_TOKEN_LIFETIME_MS = 365 * 24 * 3600_000;

export const newTokenSchema = z
  .object({
    description: z.string().trim().max(200, 'must be at most 200 characters').optional(),
    expiresIn: z
      .string()
      .max(32)
      .describe('a duration from 1s to 365d, such as 30m, 24h or 7d; absent: never')
      .transform((value, ctx) => {
        const ms = parseDurationMs(value);
        if (ms === undefined || ms <= 0 || ms > MAX_TOKEN_LIFETIME_MS) {
          ctx.addIssue({ code: 'custom', message: 'must be a duration from 1s to 365d, such as 30m, 24h or 7d' });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    usageLimit: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000).optional(),
  })
  .strict();

/** A token as the API shows it: never its secret (only its hash is kept). */
export function joinTokenView(token: JoinTokenRecord, now = Date.now()) {
  const state =
    token.revokedAt !== undefined
      ? 'revoked'
      : token.expiresAt !== undefined && token.expiresAt <= now
        ? 'expired'
        : token.usageLimit !== undefined && token.uses >= token.usageLimit
          ? 'used_up'
          : 'active';
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: token.id,
    description: token.description,
    createdBy: token.createdBy,
    createdAt: iso(token.createdAt),
    expiresAt: iso(token.expiresAt),
    usageLimit: token.usageLimit ?? null,
    uses: token.uses,
    lastUsedAt: iso(token.lastUsedAt),
    revokedAt: iso(token.revokedAt),
    startToken: token.startToken ?? false,
    state,
  };
}

/** The join line, with the token left to the operator (a file holding it, or WHARF_JOIN_TOKEN). */
export function joinCommand(cluster: ClusterInfo, tokenFile = '<file with a join token>'): string {
  return `./runWorker.sh --master ${cluster.grpcAddress()} --token-file ${tokenFile} --ca-hash ${cluster.caHash}`;
}

function tokenIdParam(value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z0-9_]{3,40}$/.test(value)) throw new WharfError('validation_failed', 'id: not a join token id');
  return value;
}

/** Public: the CA, so curl users can --cacert it and workers can be given --ca-file. */
export function publicClusterRoutes(cluster: ClusterInfo): Router {
  const router = Router();
  router.get('/cluster/ca.crt', (_req, res) => {
    res.setHeader('Content-Type', 'application/x-pem-file');
    res.setHeader('Content-Disposition', 'attachment; filename="wharf-ca.crt"');
    res.setHeader('X-Wharf-Ca-Hash', cluster.caHash);
    res.send(cluster.caCertificatePem);
  });
  return router;
}

/** Admin routes; mounted after authentication. */
export function clusterRoutes(deps: ClusterRouteDeps): Router {
  const router = Router();
  router.get(
    '/cluster/join',
    handle(async (_req, res) => {
      requireAdmin(res);
      const { oneLine } = deps.cluster;
      res.json({
        grpcAddress: deps.cluster.grpcAddress(),
        caHash: deps.cluster.caHash,
        command: joinCommand(deps.cluster),
        oneLine: oneLine ? await describeOneLineJoin(oneLine, deps.cluster.caHash, '<join token>') : null,
      });
    }),
  );
  router.post(
    '/join-tokens',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const input = parseBody(newTokenSchema, req.body ?? {});
      const { token, secret } = await deps.joinTokens.create(
        { description: input.description, expiresInMs: input.expiresIn, usageLimit: input.usageLimit },
        admin.email,
      );
      auditObject(res, `join-token:${token.id}`);
      res
        .status(201)
        .location(`/api/join-tokens/${token.id}`)
        .json({
          token: joinTokenView(token),
          secret,
          command: joinCommand(deps.cluster),
          // the one-line join with this token in it (null when this master cannot serve it)
          oneLineCommand: deps.cluster.oneLine ? (await describeOneLineJoin(deps.cluster.oneLine, deps.cluster.caHash, secret)).command : null,
        });
    }),
  );
  router.get(
    '/join-tokens',
    handle(async (_req, res) => {
      requireAdmin(res);
      const now = Date.now();
      res.json({ tokens: (await deps.joinTokens.list()).map((token) => joinTokenView(token, now)) });
    }),
  );
  router.delete(
    '/join-tokens/:id',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const token = await deps.joinTokens.revoke(tokenIdParam(req.params.id), admin.email);
      res.json({ token: joinTokenView(token) });
    }),
  );
  router.delete(
    '/workers/:id',
    handle(async (req, res) => {
      const admin = requireAdmin(res);
      const id = req.params.id;
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new WharfError('validation_failed', 'id: not a worker id');
      const record = await deps.identity.remove(id, admin.email);
      res.json({ worker: { id: record.id, name: record.name, removed: true } });
    }),
  );
  return router;
}
