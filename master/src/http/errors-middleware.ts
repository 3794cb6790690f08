import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * A request the master could not store because its data dir is full: a POST brought something
 * new (a task, a DAG run, a user, a token) and answers 507 Insufficient Storage — it will not go
 * through until an operator frees space. Any other request only changes or removes what exists
 * (cancel, revoke, remove) and answers 503 with this Retry-After: such a change needs little
 * room and is worth repeating shortly. Both carry the `storage_full` code and its message.
 */
export const STORAGE_FULL_RETRY_AFTER_SECONDS = 10;

function statusOf(wharf: WharfError, req: Request): number {
  if (wharf.code === 'storage_full' && req.method !== 'POST') return 503;
  return wharf.httpStatus;
}

/** The one mapping from errors to HTTP: `{error: {code, message}}`, never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let wharf: WharfError;
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : undefined;
    const type = typeof error === 'object' && error !== null && 'type' in error ? String(error.type) : undefined;
    if (error instanceof WharfError) wharf = error;
    else if (type === 'entity.parse.failed') wharf = new WharfError('validation_failed', 'body: not valid JSON');
    else if (type === 'entity.too.large') wharf = new WharfError('payload_too_large', `body: larger than the limit${limitOf(error)}`);
    else if (status !== undefined && status >= 400 && status < 500) wharf = new WharfError('validation_failed', 'bad request');
    else wharf = WharfError.from(error);
    // a full disk is logged once per episode where the store notices it (store/storage-alarm.ts)
    if (wharf.code === 'internal') logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    res.locals.errorCode = wharf.code; // for the audit trail (audit-log.ts)
    const httpStatus = statusOf(wharf, req);
    const retryAfter = httpStatus === 503 && wharf.code === 'storage_full' ? STORAGE_FULL_RETRY_AFTER_SECONDS : wharf.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(httpStatus).json({ error: { code: wharf.code, message: wharf.message, ...wharf.details } });
  };
}

/** " of N bytes" from body-parser's error, when it says. */
function limitOf(error: unknown): string {
  const limit = typeof error === 'object' && error !== null && 'limit' in error ? Number(error.limit) : Number.NaN;
  return Number.isFinite(limit) ? ` of ${limit} bytes` : '';
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new WharfError('not_found', `no route ${req.method} ${req.path}`));
};
