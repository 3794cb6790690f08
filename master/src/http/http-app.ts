import express, { type Express } from 'express';
import type { Logger } from '../logger.js';
import { errorHandler, notFoundHandler } from './errors-middleware.js';
import { apiRoutes, type RouteDeps } from './routes.js';

export function createHttpApp(deps: RouteDeps & { logger: Logger }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // 16 MiB: room for a batch of 1,000 submissions
  app.use(express.json({ limit: '16mb' }));
  app.get('/health', (_req, res) => {
    const counts = deps.registry.counts();
    res.json({ status: 'ok', workers: { total: counts.total, ready: counts.ready } });
  });
  app.use('/api', apiRoutes(deps));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
