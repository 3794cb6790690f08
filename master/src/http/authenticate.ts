import type { Request, RequestHandler, Response } from 'express';
import type { AuthService } from '../auth/auth-service.js';
import { WharfError } from '../errors.js';
import type { User } from '../records/user.js';

/** Resolves `Authorization: Bearer <token>` to the user, kept in res.locals.user. */
export function requireUser(auth: AuthService): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      next(new WharfError('unauthenticated', 'missing bearer token (Authorization: Bearer <token>)'));
      return;
    }
    auth.authenticate(header.slice(7).trim()).then(
      (user) => {
        res.locals.user = user;
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

export function requireAdmin(res: Response): User {
  const user = currentUser(res);
  if (user.role !== 'admin') throw new WharfError('forbidden', 'admins only');
  return user;
}

/** The client's address for rate limiting. */
export function clientKey(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}
