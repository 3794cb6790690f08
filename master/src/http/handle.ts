// Small helpers every route file uses: async handlers and body validation.
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { WharfError } from '../errors.js';
import { describeIssues } from '../tasks/task-input.js';

export type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Express 5 forwards rejected promises; this keeps handlers short and typed. */
export const handle =
  (fn: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };

/** The body as `schema` wants it, or a 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null) throw new WharfError('validation_failed', 'body: must be a JSON object');
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
  return parsed.data;
}
