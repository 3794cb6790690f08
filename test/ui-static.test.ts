// How the master serves the dashboard: files from the build, index.html for deep links,
// API paths left alone, and a plain message (not a 500) when ui/dist was never built.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { staticUi, UI_MISSING_MESSAGE } from '../master/src/http/static-ui.js';
import { removeTempDirs, tempDir } from './support/cluster.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});
afterAll(() => removeTempDirs());

async function serve(dir: string): Promise<string> {
  const app = express();
  app.use(staticUi({ dir }));
  app.use((req, res) => void res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}` } }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

function fakeBuild(): string {
  const dir = tempDir('ui-dist');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
  return dir;
}

const html = { accept: 'text/html,application/xhtml+xml' };

describe('the dashboard as the master serves it', () => {
  it('serves index.html at / and for deep links, and the bundles with a long cache', async () => {
    const url = await serve(fakeBuild());
    for (const path of ['/', '/tasks/123', '/workers/abc']) {
      const response = await fetch(`${url}${path}`, { headers: html });
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('<div id="root">');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
    const bundle = await fetch(`${url}/assets/app-abc123.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toContain('immutable');
  });

  it('leaves API, WebSocket, metrics and health paths and missing files to the 404 handler', async () => {
    const url = await serve(fakeBuild());
    for (const path of ['/api/tasks', '/ws/events', '/metrics', '/health', '/telemetry', '/assets/gone.js']) {
      const response = await fetch(`${url}${path}`, { headers: html });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/json');
    }
    // a script asking for a file that does not exist gets a 404, not index.html
    expect((await fetch(`${url}/missing.js`, { headers: { accept: '*/*' } })).status).toBe(404);
  });

  it('says how to build the dashboard when ui/dist is missing, without a 500', async () => {
    const url = await serve(join(tempDir('ui-none'), 'dist'));
    const root = await fetch(`${url}/`, { headers: html });
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toContain('text/plain');
    expect(await root.text()).toBe(UI_MISSING_MESSAGE);
    expect(UI_MISSING_MESSAGE).toContain('npm run build -w @wharf/ui');
    const deep = await fetch(`${url}/tasks/1`, { headers: html });
    expect(deep.status).toBe(404);
  });
});
