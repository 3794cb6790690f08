// Every state-changing REST request goes to the audit trail once it is answered: who (the user
// the token stood for, or who logged in), from which address, what (the action below), which
// object, and the outcome (`ok` or the error code). The table is the one list of what counts
// as a change; a route that creates something names the new object (`auditObject`), and a
// route may name a finer action (`auditAction`, e.g. `user.disable` for a PATCH). A request to
// a path that is not in the table (an unknown route) changes nothing and is not recorded. The
// WebSockets change nothing (the protocol is server → client), so none is recorded for them.
import type { Request, RequestHandler, Response } from 'express';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { User } from '../records/user.js';
import { clientKey } from './authenticate.js';

interface AuditedRoute {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** on the path (without the query) */
  pattern: RegExp;
  action: string;
  /** the object, from the path's groups and the body */
  object?: (match: RegExpExecArray, body: unknown) => string | undefined;
}

const ID = '([^/]{1,200})';
const idOf = (kind: string) => (match: RegExpExecArray) => (match[1] === undefined ? undefined : `${kind}:${decodeURIComponent(match[1])}`);
const emailOf = (_match: RegExpExecArray, body: unknown): string | undefined => {
  const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
  return typeof email === 'string' ? `email:${email.trim().toLowerCase().slice(0, 254)}` : undefined;
};

const queueOfBody = (_match: RegExpExecArray, body: unknown): string | undefined => {
  const name = typeof body === 'object' && body !== null ? (body as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? `queue:${name.slice(0, 63)}` : undefined;
};
/** a user's limits in one queue: `user:<id or email>` (the queue is in the path) */
const userInQueue = (match: RegExpExecArray): string | undefined => (match[2] === undefined ? undefined : `user:${decodeURIComponent(match[2])}`);

/** POSTs that change nothing (a dry run answers what would happen): not in the audit trail. */
export const DRY_RUN_ROUTES: readonly RegExp[] = [/^\/api\/tasks\/fit\/?$/];

/** What counts as a change, and what it is called (docs/API.md, "Audit log"). */
export const AUDITED_ROUTES: readonly AuditedRoute[] = [
  { method: 'POST', pattern: /^\/api\/auth\/register\/?$/, action: 'auth.register', object: emailOf },
  { method: 'POST', pattern: /^\/api\/auth\/login\/?$/, action: 'auth.login', object: emailOf },
  { method: 'POST', pattern: /^\/api\/auth\/logout\/?$/, action: 'auth.logout' },
  { method: 'POST', pattern: /^\/api\/auth\/refresh\/?$/, action: 'auth.refresh' },
  { method: 'POST', pattern: /^\/api\/tasks\/?$/, action: 'task.submit' },
  { method: 'POST', pattern: /^\/api\/tasks\/batch\/?$/, action: 'task.submit-batch' },
  { method: 'POST', pattern: /^\/api\/admin\/gc\/?$/, action: 'gc.run' },
  { method: 'DELETE', pattern: new RegExp(`^/api/tasks/${ID}/?$`), action: 'task.cancel', object: idOf('task') },
  { method: 'POST', pattern: new RegExp(`^/api/workers/${ID}/drain/?$`), action: 'worker.drain', object: idOf('worker') },
  { method: 'POST', pattern: new RegExp(`^/api/workers/${ID}/activate/?$`), action: 'worker.activate', object: idOf('worker') },
  { method: 'DELETE', pattern: new RegExp(`^/api/workers/${ID}/?$`), action: 'worker.remove', object: idOf('worker') },
  { method: 'POST', pattern: /^\/api\/dead-letters\/requeue\/?$/, action: 'dead-letter.requeue-bulk' },
  { method: 'POST', pattern: /^\/api\/dead-letters\/dismiss\/?$/, action: 'dead-letter.dismiss-bulk' },
  { method: 'POST', pattern: new RegExp(`^/api/dead-letters/${ID}/requeue/?$`), action: 'dead-letter.requeue', object: idOf('task') },
  { method: 'DELETE', pattern: new RegExp(`^/api/dead-letters/${ID}/?$`), action: 'dead-letter.dismiss', object: idOf('task') },
  { method: 'POST', pattern: /^\/api\/dags\/?$/, action: 'dag.submit' },
  { method: 'DELETE', pattern: new RegExp(`^/api/dags/${ID}/?$`), action: 'dag.cancel', object: idOf('dag') },
  { method: 'POST', pattern: new RegExp(`^/api/dags/${ID}/retry/?$`), action: 'dag.retry', object: idOf('dag') },
  { method: 'POST', pattern: new RegExp(`^/api/dags/${ID}/rerun/?$`), action: 'dag.rerun', object: idOf('dag') },
  { method: 'POST', pattern: /^\/api\/gangs\/?$/, action: 'gang.submit' },
  { method: 'DELETE', pattern: new RegExp(`^/api/gangs/${ID}/?$`), action: 'gang.cancel', object: idOf('gang') },
  { method: 'POST', pattern: /^\/api\/queues\/?$/, action: 'queue.create', object: queueOfBody },
  { method: 'PATCH', pattern: new RegExp(`^/api/queues/${ID}/?$`), action: 'queue.update', object: idOf('queue') },
  { method: 'DELETE', pattern: new RegExp(`^/api/queues/${ID}/?$`), action: 'queue.delete', object: idOf('queue') },
  { method: 'PUT', pattern: new RegExp(`^/api/user-limits/${ID}/?$`), action: 'user-limit.set', object: idOf('user') },
  { method: 'DELETE', pattern: new RegExp(`^/api/user-limits/${ID}/?$`), action: 'user-limit.delete', object: idOf('user') },
  { method: 'PUT', pattern: new RegExp(`^/api/queues/${ID}/users/${ID}/?$`), action: 'user-limit.set', object: userInQueue },
  { method: 'DELETE', pattern: new RegExp(`^/api/queues/${ID}/users/${ID}/?$`), action: 'user-limit.delete', object: userInQueue },
  { method: 'POST', pattern: /^\/api\/tokens\/?$/, action: 'api-token.create' },
  { method: 'DELETE', pattern: new RegExp(`^/api/tokens/${ID}/?$`), action: 'api-token.revoke', object: idOf('api-token') },
  { method: 'POST', pattern: /^\/api\/join-tokens\/?$/, action: 'join-token.create' },
  { method: 'DELETE', pattern: new RegExp(`^/api/join-tokens/${ID}/?$`), action: 'join-token.revoke', object: idOf('join-token') },
  { method: 'POST', pattern: /^\/api\/registry-credentials\/?$/, action: 'registry-credential.save' },
  { method: 'DELETE', pattern: new RegExp(`^/api/registry-credentials/${ID}/?$`), action: 'registry-credential.delete', object: idOf('registry-credential') },
  { method: 'POST', pattern: /^\/api\/users\/invites\/?$/, action: 'invite.create', object: emailOf },
  { method: 'DELETE', pattern: new RegExp(`^/api/users/invites/${ID}/?$`), action: 'invite.revoke', object: idOf('invite') },
  { method: 'PATCH', pattern: new RegExp(`^/api/users/${ID}/?$`), action: 'user.update', object: idOf('user') },
  { method: 'DELETE', pattern: new RegExp(`^/api/users/${ID}/?$`), action: 'user.delete', object: idOf('user') },
];

/** The audited route a request is, with its action and object (before the handler refines them). */
export function auditedRoute(method: string, path: string, body: unknown): { action: string; object?: string | undefined } | undefined {
  for (const route of AUDITED_ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    let object: string | undefined;
    try {
      object = route.object?.(match, body);
    } catch {
      object = undefined; // a malformed %-escape: the path is recorded as the object instead
    }
    return { action: route.action, object: object ?? undefined };
  }
  return undefined;
}

/** Names the object a request created (a new task's id), for its audit entry. */
export function auditObject(res: Response, object: string): void {
  res.locals.auditObject = object;
}

/** Names a finer action than the table's (e.g. `user.disable`), for its audit entry. */
export function auditAction(res: Response, action: string): void {
  res.locals.auditAction = action;
}

/** Says who a request acted as when it had no token (a login, a registration with an invite). */
export function auditUser(res: Response, user: User): void {
  res.locals.auditUser = user;
}

/** Records every audited request once its answer is sent (or the client went away). */
export function auditLog(trail: AuditTrail): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
      next();
      return;
    }
    // the path as it came in (routers mounted below rewrite req.url while they handle it)
    const path = req.path;
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const route = auditedRoute(req.method, path, req.body);
      if (!route) return;
      const user = (res.locals.user ?? res.locals.auditUser) as User | undefined;
      const status = res.headersSent ? res.statusCode : 0;
      const code = res.locals.errorCode as string | undefined;
      trail.record({
        ...(user ? { userId: user.id, userEmail: user.email } : {}),
        address: clientKey(req),
        action: (res.locals.auditAction as string | undefined) ?? route.action,
        object: (res.locals.auditObject as string | undefined) ?? route.object ?? path.slice(0, 300),
        outcome: code ?? (status > 0 && status < 400 ? 'ok' : status === 0 ? 'aborted' : 'error'),
        status,
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
