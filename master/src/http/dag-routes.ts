// REST routes of DAG runs (docs/DAGS.md, docs/API.md). Transport only: read the body (YAML or
// JSON), call the DAG service, shape the reply. Mounted by routes.ts after authentication.
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { parseMetricsLimit } from '../dags/dag-metrics.js';
import type { DagService } from '../dags/dag-service.js';
import { DAG_NAME_PATTERN, MAX_DAG_FILE_BYTES, parseDagFile } from '../dags/dag-spec.js';
import { WharfError } from '../errors.js';
import type { DagRun } from '../records/dag.js';
import { describeIssues } from '../tasks/task-input.js';
import { auditObject } from './audit-log.js';
import { currentUser } from './authenticate.js';
import { handle } from './handle.js';


const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];
export const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), name: z.string().regex(DAG_NAME_PATTERN).optional() });

function idParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(value)) throw new WharfError('validation_failed', `${name}: invalid`);
  return value;
}

/** A run as lists and POST show it: its tasks with their state, no spec internals. */
export function dagSummaryView(run: DagRun) {
  return {
    id: run.id,
    name: run.name,
    userId: run.userId,
    status: run.status,
    useCache: run.useCache,
    cancelRequested: run.cancelRequested,
    createdAt: new Date(run.createdAt).toISOString(),
    finishedAt: run.finishedAt === undefined ? null : new Date(run.finishedAt).toISOString(),
    origin: run.origin ?? null,
    tasks: run.tasks.map((entry) => {
      const spec = run.spec.find((t) => t.name === entry.name);
      return {
        name: entry.name,
        status: entry.state,
        taskId: entry.taskId ?? null,
        reason: entry.reason ?? null,
        dependsOn: spec?.dependsOn ?? [],
        inputs: spec?.inputs ?? [],
        outputs: spec?.outputs ?? [],
        artifacts: entry.artifacts ?? [],
        reusedFrom: entry.reusedFrom ?? null,
      };
    }),
  };
}

/**
 * The body parsers of `POST /api/dags`, mounted by the app before its general JSON parser (16
 * MiB): a DAG file, YAML or JSON, is read up to MAX_DAG_FILE_BYTES of its actual bytes, so the
 * limit holds whatever the transfer encoding (a chunked body has no Content-Length to check)
 * and whatever the content encoding (gzip is counted inflated). Past it: 413.
 */
export function dagBodyParsers(): express.RequestHandler[] {
  const onlyPost =
    (parser: express.RequestHandler): express.RequestHandler =>
    (req, res, next) => {
      if (req.method === 'POST' && (req.path === '/' || req.path === '')) parser(req, res, next);
      else next();
    };
  return [
    onlyPost(express.json({ limit: MAX_DAG_FILE_BYTES })),
    onlyPost(express.text({ type: YAML_TYPES, limit: MAX_DAG_FILE_BYTES })),
  ];
}

export function dagRoutes(dags: DagService): Router {
  const router = Router();

  router.post(
    '/dags',
    handle(async (req, res) => {
      const body: unknown = typeof req.body === 'string' || Buffer.isBuffer(req.body) || (req.body && Object.keys(req.body as object).length > 0) ? req.body : undefined;
      const spec = parseDagFile(body, req.headers['content-type']);
      const run = await dags.submit(currentUser(res), spec);
      auditObject(res, `dag:${run.id}`);
      res.status(201).location(`/api/dags/${run.id}`).json({ dag: dagSummaryView(run), warnings: spec.warnings });
    }),
  );
  // a new run from an ended one: its failed part again (reusing what succeeded), or all of it
  for (const kind of ['retry', 'rerun'] as const) {
    router.post(
      `/dags/:id/${kind}`,
      handle(async (req, res) => {
        const id = idParam(req, 'id');
        const user = currentUser(res);
        const run = kind === 'retry' ? await dags.retry(user, id) : await dags.rerun(user, id);
        res.status(201).location(`/api/dags/${run.id}`).json({ dag: dagSummaryView(run) });
      }),
    );
  }
  router.get(
    '/dags',
    handle(async (req, res) => {
      const parsed = listQuery.safeParse(req.query);
      if (!parsed.success) throw new WharfError('validation_failed', describeIssues(parsed.error));
      const runs = await dags.list(currentUser(res), parsed.data);
      res.json({ dags: runs.map(dagSummaryView) });
    }),
  );
  router.get(
    '/dags/:name/metrics',
    handle(async (req, res) => {
      const name = req.params.name;
      if (typeof name !== 'string' || !DAG_NAME_PATTERN.test(name)) throw new WharfError('validation_failed', 'name: not a DAG name');
      const limit = parseMetricsLimit(req.query.limit);
      res.json({ runs: await dags.metrics(currentUser(res), name, limit) });
    }),
  );
  router.get(
    '/dags/:id',
    handle(async (req, res) => {
      const details = await dags.get(currentUser(res), idParam(req, 'id'));
      res.json({
        dag: {
          ...details,
          createdAt: new Date(details.createdAt).toISOString(),
          finishedAt: details.finishedAt === undefined ? null : new Date(details.finishedAt).toISOString(),
          origin: details.origin ?? null,
        },
      });
    }),
  );
  router.delete(
    '/dags/:id',
    handle(async (req, res) => {
      const run = await dags.cancel(currentUser(res), idParam(req, 'id'));
      res.status(202).json({ dag: dagSummaryView(run) });
    }),
  );
  return router;
}
