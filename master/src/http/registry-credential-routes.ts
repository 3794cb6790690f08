// REST routes of registry credentials (docs/API.md, "Registry credentials"). Transport only:
// validate, call the RegistryCredentialService, shape the reply. The password goes in and never
// comes out. Mounted by routes.ts after authentication.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { WharfError } from '../errors.js';
import type { RegistryCredentialService, RegistryCredentialView } from '../registries/registry-credential-service.js';
import { currentUser } from './authenticate.js';
import { handle, parseBody } from './handle.js';

const printable = /^[^\x00-\x1f\x7f]+$/;
export const putSchema = z
  .object({
    registry: z.string().trim().min(1, 'is required').max(255),
    username: z.string().min(1, 'is required').max(255).regex(printable, 'must not contain control characters'),
    // tokens and JSON keys can be long; a password is never echoed back
    password: z.string().min(1, 'is required').max(16 * 1024),
  })
  .strict();
export const listQuery = z.object({ all: z.enum(['true', 'false', '1', '0']).optional() });

export function registryCredentialView(credential: RegistryCredentialView) {
  return {
    id: credential.id,
    userId: credential.userId,
    registry: credential.registry,
    username: credential.username,
    createdAt: new Date(credential.createdAt).toISOString(),
  };
}

function credentialId(req: Request): string {
  const value = req.params.id;
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new WharfError('validation_failed', 'id: not a registry credential id');
  return value;
}

export function registryCredentialRoutes(credentials: RegistryCredentialService): Router {
  const router = Router();
  router.post(
    '/registry-credentials',
    handle(async (req, res) => {
      if (Array.isArray(req.body)) throw new WharfError('validation_failed', 'body: must be a JSON object');
      const stored = await credentials.put(currentUser(res), parseBody(putSchema, req.body));
      res.status(201).location(`/api/registry-credentials/${stored.id}`).json({ credential: registryCredentialView(stored) });
    }),
  );
  router.get(
    '/registry-credentials',
    handle(async (req, res) => {
      const parsed = listQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', 'all: must be true or false');
      const all = parsed.data.all === 'true' || parsed.data.all === '1';
      res.json({ credentials: (await credentials.list(currentUser(res), all)).map(registryCredentialView) });
    }),
  );
  router.delete(
    '/registry-credentials/:id',
    handle(async (req, res) => {
      res.json({ credential: registryCredentialView(await credentials.remove(currentUser(res), credentialId(req))) });
    }),
  );
  return router;
}
