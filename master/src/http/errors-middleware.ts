import type { ErrorRequestHandler, RequestHandler } from 'express';
import { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The one mapping from errors to HTTP: `{error: {code, message}}`, never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let wharf: WharfError;
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : undefined;
    const type = typeof error === 'object' && error !== null && 'type' in error ? String(error.type) : undefined;
    if (error instanceof WharfError) wharf = error;
    else if (type === 'entity.parse.failed') wharf = new WharfError('validation_failed', 'body: not valid JSON');
    else if (type === 'entity.too.large') wharf = new WharfError('payload_too_large', 'body: larger than the limit');
    else if (status !== undefined && status >= 400 && status < 500) wharf = new WharfError('validation_failed', 'bad request');
    else wharf = WharfError.from(error);
    if (wharf.code === 'internal') logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    res.locals.errorCode = wharf.code; // for the audit trail (audit-log.ts)
    const retryAfter = wharf.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(wharf.httpStatus).json({ error: { code: wharf.code, message: wharf.message, ...wharf.details } });
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new WharfError('not_found', `no route ${req.method} ${req.path}`));
};
