// A production install (issue 15, point 3): the runtime files only (scripts/copy-runtime.sh:
// manifests, lock file, prebuilt dist/ folders, the start scripts; no sources), then
// `npm ci --omit=dev`, runs a master and a worker — so nothing the master or the worker loads
// is a devDependency, and build tools (TypeScript, Vite, esbuild, vitest…) stay off production
// machines. runMaster.sh and runWorker.sh see a production install and build nothing.
//
// npm ci runs offline from the npm cache (it was warmed by installing this repository) and
// with --ignore-scripts: better-sqlite3's native addon, which its install script would download
// (prebuild-install) or compile (node-gyp, minutes of this shared machine's CPU), is copied from
// this checkout's build instead — the same file for the same Node and platform.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caCertificateHash } from '@wharf/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { freePort, REPO_ROOT, removeTempDirs, tempDir, waitFor } from './support/cluster.js';

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
  await removeTempDirs();
});

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

function background(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

describe('a production install: npm ci --omit=dev over the prebuilt dist/ folders', () => {
  let dest = '';
  let skipReason: string | undefined;

  beforeAll(async () => {
    dest = tempDir('production');
    const copied = await run('bash', [join(REPO_ROOT, 'scripts/copy-runtime.sh'), dest], { cwd: REPO_ROOT });
    expect(copied.status, copied.output).toBe(0);
    const npmArgs = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
    let installed = await run('npm', [...npmArgs, '--offline'], { cwd: dest });
    if (installed.status !== 0 && /ENOTCACHED/.test(installed.output)) installed = await run('npm', npmArgs, { cwd: dest });
    if (installed.status !== 0) {
      skipReason = `npm ci could not install the runtime dependencies here (no cached copy and no registry): ${installed.output.trim().split('\n').slice(-3).join(' ')}`;
      console.warn(`skipping test/production-install.test.ts: ${skipReason}`);
      return;
    }
    mkdirSync(join(dest, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(
      join(REPO_ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
      join(dest, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
    );
  }, 600_000);

  it('holds no sources and no build tools, only what runs', (context) => {
    if (skipReason) context.skip();
    for (const absent of ['master/src', 'worker/src', 'proto/src', 'ui/src', 'cli/src']) expect(existsSync(join(dest, absent)), absent).toBe(false);
    // (@types/node stays: protobufjs and @kubernetes/client-node list it as a dependency of their own)
    for (const tool of ['typescript', 'vite', 'esbuild', 'vitest', 'tsx', 'react', 'recharts', '@vitejs/plugin-react', '@types/express', 'playwright-core', 's3rver']) {
      expect(existsSync(join(dest, 'node_modules', tool)), `node_modules/${tool}`).toBe(false);
    }
    for (const runtime of ['better-sqlite3', 'express', '@grpc/grpc-js', '@grpc/proto-loader', 'dockerode', 'pino', 'pino-pretty', 'zod', 'ws', 'yaml']) {
      expect(existsSync(join(dest, 'node_modules', runtime)), `node_modules/${runtime}`).toBe(true);
    }
  });

  it('runs a master with runMaster.sh and a worker with runWorker.sh, and the worker runs a task', async (context) => {
    if (skipReason) context.skip();
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const dataDir = tempDir('production-master');
    const joinToken = 'wharf_prod01.production_join_token_0123456789';
    const master = background('bash', ['runMaster.sh', '--no-repl'], {
      cwd: dest,
      env: { ...process.env, WHARF_DATA_DIR: dataDir, WHARF_HTTP_PORT: String(httpPort), WHARF_GRPC_PORT: String(grpcPort), WHARF_ADMIN_PASSWORD: 'admin-password', WHARF_JOIN_TOKEN: joinToken, WHARF_SKIP_SETUP: '' },
    });
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    await waitFor('the master to answer /health', async () => {
      if (master.child.exitCode !== null) throw new Error(`the master exited (${master.child.exitCode}):\n${master.output()}`);
      return (await fetch(`${httpUrl}/health`).then((r) => r.ok, () => false)) || undefined;
    }, 60_000);
    expect(master.output()).toContain('setup: a production install (no build tools, prebuilt dist/): nothing to install or build');
    // what the master serves from the copy: the dashboard and the one-line join's bundle
    expect(await (await fetch(`${httpUrl}/`)).text()).toContain('<div id="root">');
    expect((await fetch(`${httpUrl}/join.sh`)).status).toBe(200);

    const caHash = caCertificateHash(readFileSync(join(dataDir, 'tls', 'ca.crt')));
    const worker = background('bash', ['runWorker.sh', '--master', `127.0.0.1:${grpcPort}`, '--ca-hash', caHash, '--runtimes', 'exec', '--name', 'production-worker'], {
      cwd: dest,
      env: { ...process.env, WHARF_DATA_DIR: tempDir('production-worker'), WHARF_JOIN_TOKEN: joinToken, WHARF_SKIP_SETUP: '' },
    });
    const admin = await ApiClient.admin(httpUrl);
    await waitFor('the worker to join', async () => {
      if (worker.child.exitCode !== null) throw new Error(`the worker exited (${worker.child.exitCode}):\n${worker.output()}`);
      const workers = await admin.request<{ workers: { name: string; connected: boolean }[] }>('GET', '/api/workers');
      return workers.body.workers.some((w) => w.name === 'production-worker' && w.connected) || undefined;
    }, 60_000);
    expect(worker.output()).toContain('setup: a production install');

    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', { runtime: 'exec', command: 'echo from a production install' });
    expect(submitted.status).toBe(201);
    const done = await waitFor('the task to finish', async () => {
      const task = (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${submitted.body.task.id}`)).body.task;
      return ['succeeded', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
    }, 60_000);
    expect(done.status).toBe('succeeded');
    expect((await admin.request('GET', `/api/tasks/${done.id}/logs`)).text).toContain('from a production install');
  }, 180_000);
});
