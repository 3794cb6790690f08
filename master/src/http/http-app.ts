import express, { type Express } from 'express';
import type { Logger } from '../logger.js';
import { METRICS_CONTENT_TYPE, type MasterMetrics } from '../metrics/master-metrics.js';
import { auditLog } from './audit-log.js';
import { currentUser, requireUser } from './authenticate.js';
import { dagBodyParsers } from './dag-routes.js';
import { errorHandler, notFoundHandler } from './errors-middleware.js';
import { joinRoutes } from './join-routes.js';
import type { LeaderProxy } from '../leadership/leader-proxy.js';
import { buildOpenApiDocument } from './openapi.js';
import { apiRoutes, type RouteDeps } from './routes.js';
import { staticUi } from './static-ui.js';
import { workerTelemetryView } from './views.js';

/** Who leads, for GET /health (several masters; one master alone is always the leader). */
export interface LeadershipView {
  role: 'leader' | 'standby';
  /** the lease's epoch as this master knows it */
  epoch: number | null;
  /** the leader's advertised gRPC address, or null when none is known */
  leader: string | null;
  /** the leader's advertised HTTP URL, or null */
  leaderUrl: string | null;
}

export function createHttpApp(
  deps: RouteDeps & {
    logger: Logger;
    metrics?: MasterMetrics | undefined;
    /** default: ui/dist of this checkout */ uiDir?: string | undefined;
    /** several masters: a standby forwards what it cannot answer to the leader (leadership/leader-proxy.ts) */
    leaderProxy?: LeaderProxy | undefined;
    leadership?: (() => LeadershipView) | undefined;
  },
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // first: a standby hands writes and live reads to the leader untouched (not audited or parsed here)
  if (deps.leaderProxy) app.use(deps.leaderProxy.middleware());
  // every state-changing request is recorded once answered (audit-log.ts)
  if (deps.audit) app.use(auditLog(deps.audit));
  // a DAG file has its own, smaller limit (1 MiB), enforced on the bytes read whatever the
  // transfer encoding; a body already read is skipped by the general parser below
  app.use('/api/dags', dagBodyParsers());
  // 16 MiB: room for a batch of 1,000 submissions
  app.use(express.json({ limit: '16mb' }));
  app.get('/health', (_req, res) => {
    const counts = deps.registry.counts();
    const leadership = deps.leadership?.() ?? { role: 'leader', epoch: null, leader: null, leaderUrl: null };
    res.json({ status: 'ok', workers: { total: counts.total, ready: counts.ready }, ...leadership });
  });
  // Prometheus scrape target; no auth, like /health (aggregate figures and worker ids only)
  app.get('/metrics', (_req, res, next) => {
    const metrics = deps.metrics;
    if (!metrics) {
      res.status(404).json({ error: { code: 'not_found', message: 'metrics are not enabled on this master' } });
      return;
    }
    metrics.render().then((text) => {
      res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
      res.setHeader('Cache-Control', 'no-store');
      res.send(text);
    }, next);
  });
  // every worker's telemetry (the REST worker view plus its running tasks), for any logged-in
  // user; a non-admin sees only their own tasks on the workers
  app.get('/telemetry', requireUser(deps.auth), (_req, res) => {
    const viewer = currentUser(res);
    res.json({ workers: deps.telemetry.snapshot().map((worker) => workerTelemetryView(worker, viewer)) });
  });
  // the API's OpenAPI 3.1 document (built once, public like the CA) and its page in the dashboard
  const openApi = JSON.stringify(buildOpenApiDocument());
  app.get('/api/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(openApi);
  });
  app.get('/api/docs', (_req, res) => res.redirect(302, '/docs'));
  app.use('/api', apiRoutes(deps));
  // the one-line join: join.sh and the worker bundle, public like the CA
  if (deps.cluster?.oneLine) app.use(joinRoutes({ oneLine: deps.cluster.oneLine, caHash: deps.cluster.caHash }));
  // the web dashboard (ui/dist) at `/`, with a single-page fallback for non-API paths
  app.use(staticUi({ dir: deps.uiDir }));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
