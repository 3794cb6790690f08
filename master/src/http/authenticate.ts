import type { Request, RequestHandler, Response } from 'express';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { WharfError } from '../errors.js';
import type { User } from '../records/user.js';

/** The bearer token of a request, or undefined. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

/**
 * Resolves `Authorization: Bearer <token>` to the user, kept in res.locals.user (and what the
 * token is in res.locals.principal, for streams that must end when it does).
 */
export function requireUser(auth: AuthService): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req);
    if (token === undefined) {
      next(new WharfError('unauthenticated', 'missing bearer token (Authorization: Bearer <token>)'));
      return;
    }
    auth.authenticatePrincipal(token).then(
      (principal) => {
        res.locals.user = principal.user;
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

export function currentUser(res: Response): User {
  const user = res.locals.user as User | undefined;
  if (!user) throw new WharfError('unauthenticated', 'not logged in');
  return user;
}

export function currentPrincipal(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new WharfError('unauthenticated', 'not logged in');
  return principal;
}

export function requireAdmin(res: Response): User {
  const user = currentUser(res);
  if (user.role !== 'admin') throw new WharfError('forbidden', 'admins only');
  return user;
}

/** The client's address for rate limiting and the audit trail. */
export function clientKey(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}
