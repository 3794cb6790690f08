// Serves the web dashboard (ui/dist, built by `npm run build -w @wharf/ui`) at `/` on the same
// origin as the API. Files are served as they are; any other GET that asks for HTML and is not
// an API path gets index.html, so deep links such as /tasks/abc work after a reload (the
// dashboard routes in the browser). Without a build, `/` says how to make one: never a 500.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** ui/dist of this checkout, from master/src/http (tsx, tests) and master/dist/http (built) alike. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../ui/dist', import.meta.url));

/** Paths the dashboard must never shadow. */
const NOT_UI = /^\/(api|ws|metrics|health|telemetry)(\/|$)/;

export const UI_MISSING_MESSAGE =
  'The Wharf dashboard is not built. Run `make run`, or `npm run build -w @wharf/ui` and reload.\n' +
  'The REST API is at /api (see docs/API.md).\n';

export function staticUi(options: { dir?: string | undefined } = {}): Router {
  const dir = options.dir ?? DEFAULT_UI_DIR;
  const index = join(dir, 'index.html');
  const router = Router();
  // hashed bundles never change under their name; index.html is always revalidated
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: true }),
  );
  router.use(express.static(dir, { index: false, fallthrough: true }));
  router.get(/.*/, (req, res, next) => {
    if (NOT_UI.test(req.path) || req.path.startsWith('/assets/')) return next();
    // a page load says text/html; a script, an image or curl's */* for a missing file gets a 404
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    if (!wantsHtml && req.path !== '/') return next();
    if (!existsSync(index)) {
      if (req.path !== '/') return next();
      res.status(200).type('text/plain; charset=utf-8').send(UI_MISSING_MESSAGE);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index, (error) => {
      if (error) next();
    });
  });
  return router;
}
