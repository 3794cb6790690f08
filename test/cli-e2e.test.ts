// The `wharf` CLI as a user installs and runs it: the package packed from cli/ (what `make
// cli-pack` makes), installed with npm into a temp prefix, and that installed binary run as a
// real process against a real master and a worker on the real Docker engine, over loopback.
// Terminal behaviour (colours, the Ctrl-C prompt) is checked on a real pseudo-terminal made by
// util-linux `script`; https with a CA given by --cacert: through a TLS terminator in front of the
// master (a CA and certificate made by openssl for this test), and a master serving HTTPS itself
// with the cluster CA it publishes.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { get as httpsGet } from 'node:https';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { status as grpcStatus } from '@grpc/grpc-js';
import { caCertificateHash } from '@wharf/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';
import { trainPipelineYaml } from './support/dags.js';
import { callError, RawWorker } from './support/raw-worker.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const execFileAsync = promisify(execFile);

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const screen = (raw: string) => raw.replace(ANSI, '').replace(/\r/g, '');
const shellQuote = (args: readonly string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `wharf` process (or `script` running it on a pseudo-terminal). */
class WharfProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<Run>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.done = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** Waits until the combined output (as a person sees it) matches. */
  async expect(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${pattern} in the output of wharf (so far: ${JSON.stringify(screen(this.stdout + this.stderr).slice(-400))})`, () =>
      pattern.test(screen(this.stdout + this.stderr)) ? true : undefined, timeoutMs, 50);
  }

  send(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits for the end, killing the process after `timeoutMs` so a hang fails the test instead of stalling it. */
  async finished(timeoutMs = 120_000): Promise<Run> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('the wharf CLI, installed from its packed tarball, against a real master', () => {
  let master: Master;
  let worker: WorkerHandle;
  let admin: ApiClient;
  let bin: string;
  let prefix: string;
  /** the HOME of the CLI runs: its config lives there */
  let home: string;
  const workerName = `cli-e2e-${randomUUID().slice(0, 8)}`;
  const cleanups: (() => Promise<void> | void)[] = [];

  /** The environment of a CLI run: this test's HOME, none of the caller's WHARF_* or NO_COLOR. */
  function env(extra: Record<string, string> = {}, ownHome = home): NodeJS.ProcessEnv {
    const clean: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WHARF_') && key !== 'NO_COLOR') clean[key] = value;
    return { ...clean, HOME: ownHome, XDG_CONFIG_HOME: '', SHELL: '/bin/sh', TERM: 'xterm-256color', ...extra };
  }

  function start(args: string[], options: { env?: Record<string, string>; home?: string; cwd?: string } = {}): WharfProcess {
    return new WharfProcess(
      spawn(bin, args, { cwd: options.cwd ?? tempDir('cli-cwd'), env: env(options.env, options.home), stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  }

  /** Runs wharf to its end with `input` on stdin. */
  async function wharf(args: string[], options: { input?: string; env?: Record<string, string>; home?: string; cwd?: string } = {}): Promise<Run> {
    const proc = start(args, options);
    proc.child.stdin!.end(options.input ?? '');
    return proc.finished();
  }

  /** wharf on a pseudo-terminal: stdin, stdout and stderr are a TTY (one stream, as on a screen). */
  function onTerminal(args: string[], extraEnv: Record<string, string> = {}, ownHome = home): WharfProcess {
    return new WharfProcess(
      // exec: wharf itself is the terminal's foreground process, not a shell waiting for it
      spawn('script', ['-qfec', `exec ${shellQuote([bin, ...args])}`, '/dev/null'], {
        cwd: tempDir('cli-cwd'),
        env: env({ COLUMNS: '200', LINES: '50', ...extraEnv }, ownHome),
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  }

  /** A task of this test's own, for the completion to find. */
  const submittedTaskId = async () =>
    (await admin.request<{ task: TaskBody }>('POST', '/api/tasks', { image: 'wharf/busybox', command: 'true', name: 'for-completion' })).body.task.id;

  const taskOf = async (id: string) => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;

  beforeAll(async () => {
    const bundle = join(REPO_ROOT, 'cli/dist/wharf.js');
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build (the CLI is bundled by it)`);
    // what `make cli-pack` does after the build, then a user's install into their own prefix
    const packDir = tempDir('cli-pack');
    execFileSync('npm', ['pack', '-w', '@wharf/cli', '--pack-destination', packDir, '--silent'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
    prefix = tempDir('cli-prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'], { cwd: packDir, stdio: 'ignore' });
    bin = join(prefix, 'bin', 'wharf');
    home = tempDir('cli-home');

    master = await startTestMaster({ WHARF_CANCEL_GRACE: '1s' });
    worker = await startTestWorker(master, { name: workerName });
    admin = await ApiClient.admin(master.httpUrl);
    const login = await wharf(['login', master.httpUrl, '--email', 'admin@wharf.local', '--password-stdin'], { input: 'admin-password\n' });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await worker?.stop();
    await master?.stop();
    await removeTempDirs();
  });

  it('installs as one self-contained package and runs outside the repository', async () => {
    const installed = join(prefix, 'lib', 'node_modules', '@wharf', 'cli');
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false); // nothing fetched: no dependencies
    const version = await wharf(['--version'], { cwd: '/' });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^wharf 0\.1\.0 \(node v\d+/);
    const help = await wharf(['run', '--help'], { cwd: '/' });
    expect(help.stdout).toContain('Usage: wharf run [OPTIONS] IMAGE [COMMAND...]');
  });

  it('keeps the login in ~/.config/wharf/config.json, readable only by its owner', async () => {
    const file = join(home, '.config', 'wharf', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(file, 'utf8')) as { current: string; contexts: Record<string, { server: string; token: string }> };
    expect(config.contexts[config.current]?.server).toBe(master.httpUrl);
    const whoami = await wharf(['whoami']);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toContain(`admin@wharf.local (admin) on ${master.httpUrl}`);
    const wrong = await wharf(['login', master.httpUrl, '--email', 'admin@wharf.local', '--password-stdin', '--context', 'wrong'], { input: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('wrong email or password [unauthenticated]');
  });

  it('asks for the email and password on a terminal, without echoing the password', async () => {
    const terminalHome = tempDir('cli-tty-home');
    const proc = onTerminal(['login', master.httpUrl], {}, terminalHome);
    await proc.expect(/Email: $/);
    proc.send('admin@wharf.local\r');
    await proc.expect(/Password: $/);
    proc.send('admin-password\r');
    const run = await proc.finished();
    expect(run.code).toBe(0);
    expect(screen(run.stdout)).toContain('Logged in to');
    expect(run.stdout).not.toContain('admin-password');
    expect((await wharf(['whoami'], { home: terminalHome })).stdout).toContain('admin@wharf.local (admin)');
  });

  it('keeps several masters as contexts and switches between them', async () => {
    const contextsHome = tempDir('cli-contexts');
    const as = (args: string[], input?: string) => wharf(args, { home: contextsHome, ...(input === undefined ? {} : { input }) });
    await as(['login', master.httpUrl, '--email', 'admin@wharf.local', '--password-stdin', '--context', 'one'], 'admin-password');
    const ada = await ApiClient.registered(master.httpUrl, `ada-${randomUUID().slice(0, 6)}@example.com`);
    await as(['login', master.httpUrl, '--token-stdin', '--context', 'two'], ada.token!);
    const ls = await as(['context', 'ls']);
    expect(ls.stdout).toMatch(/^\s+one\s+http\S+\s+admin@wharf\.local\s+login token, expires in/m);
    expect(ls.stdout).toMatch(/^\*\s+two\s+http\S+\s+ada-\S+\s+login token/m);
    expect((await as(['whoami'])).stdout).toMatch(/^ada-/);
    expect((await as(['whoami', '--context', 'one'])).stdout).toMatch(/^admin@wharf\.local/);
    await as(['context', 'use', 'one']);
    expect((await as(['whoami'])).stdout).toMatch(/^admin@wharf\.local/);
    const adminToken = (JSON.parse(readFileSync(join(contextsHome, '.config', 'wharf', 'config.json'), 'utf8')) as { contexts: Record<string, { token: string }> }).contexts.one!.token;
    const logout = await as(['logout']);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain('the master refuses it from now on');
    // the session ended on the master: the token is refused, not only forgotten
    expect((await new ApiClient(master.httpUrl, adminToken).request('GET', '/api/tasks')).status).toBe(401);
    const after = await as(['ls']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('not logged in to');
    expect((await as(['context', 'rm', 'two'])).code).toBe(0);
    expect((await as(['context', 'use', 'two'])).stderr).toContain('no context named "two"');
  });

  it('wharf run prints the task\'s output as it wrote it and exits with its exit code', async () => {
    const run = await wharf(['run', 'wharf/busybox', '--memory', '64Mi', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(run.stdout).toBe('hi\n');
    expect(run.stderr).toBe('oops\n');
    expect(run.code).toBe(3);
    const ok = await wharf(['run', 'wharf/busybox', 'echo', 'fine']);
    expect(ok.stdout).toBe('fine\n');
    expect(ok.code).toBe(0);
  });

  it('wharf run exits 125 with the reason when the task fails without running', async () => {
    const run = await wharf(['run', '--name', 'no-image', 'wharf/no-such-image:never', 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/wharf: the task failed: .*no-such-image/);
    expect(run.stdout).toBe('');
  });

  it('wharf run with a retry policy exhausts it; wharf dead-letters lists the task and re-queues it as the same task', async () => {
    const name = `dead-${randomUUID().slice(0, 8)}`;
    const run = await wharf(['run', '--name', name, '--retries', '1', '--backoff', '1s', '--retry-on', '3', 'wharf/busybox', '--', 'sh', '-c', 'exit 3']);
    expect(run.code).toBe(3);
    const ls = await wharf(['dead-letters', 'ls', '--name', name, '-o', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const [listed] = JSON.parse(ls.stdout) as { id: string; retriesUsed: number; maxRetries: number; attempts: unknown[]; lastError: string }[];
    expect(listed).toMatchObject({ retriesUsed: 1, maxRetries: 1, lastError: 'exit code 3' });
    expect(listed!.attempts).toHaveLength(2);
    const table = await wharf(['dead-letters', 'ls', '--name', name]);
    expect(screen(table.stdout)).toMatch(new RegExp(`${name}\\s+wharf/busybox.*2\\s+1/1\\s+exit code 3`));
    const requeue = await wharf(['dead-letters', 'requeue', listed!.id.slice(0, 12)]);
    expect(requeue.code, requeue.stderr).toBe(0);
    expect(requeue.stdout).toBe(`re-queued 1 task: ${listed!.id.slice(0, 8)}\n`);
    await waitFor('the re-queued task to fail again', async () => ((await taskOf(listed!.id)).status === 'failed' ? true : undefined), 60_000);
    expect((await taskOf(listed!.id)).attempts.map((a) => a.number)).toEqual([1, 2, 3, 4]);
    const dismiss = await wharf(['dead-letters', 'dismiss', '--all', '--name', name]);
    expect(dismiss.stdout).toBe(`dismissed 1 task: ${listed!.id.slice(0, 8)}\n`);
    const again = await wharf(['dead-letters', 'dismiss', listed!.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not a dead letter');
  });

  it('wharf run -d prints the id, wharf logs -f follows the task and ends when it ends', async () => {
    const detached = await wharf(['run', '-d', 'wharf/busybox', '--', 'sh', '-c', 'for i in 1 2 3; do echo step $i; sleep 0.3; done; echo bad >&2']);
    expect(detached.code).toBe(0);
    const id = detached.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const follow = await wharf(['logs', '-f', id.slice(0, 8)]);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toBe('step 1\nstep 2\nstep 3\n');
    expect(follow.stderr).toBe('bad\n');
    expect((await taskOf(id)).status).toBe('succeeded'); // it ended because the task did
    const stored = await wharf(['logs', id]);
    expect(stored.stdout).toBe('step 1\nstep 2\nstep 3\nbad\n');
    // searched on the master: attempt:line: text, the line numbered within its attempt
    const found = await wharf(['logs', id.slice(0, 8), '--grep', 'STEP [23]', '--regex', '-i']);
    expect(found.code).toBe(0);
    expect(found.stdout).toBe('1:2: step 2\n1:3: step 3\n');
    expect((await wharf(['logs', id, '--stream', 'stderr'])).stdout).toBe('1:4: bad\n');
    const none = await wharf(['logs', id, '--grep', 'no such text']);
    expect([none.code, none.stdout]).toEqual([1, '']);
    const bad = await wharf(['logs', id, '--grep', '(a', '--regex']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('grep: not a regular expression');
  });

  it('wharf cp downloads an output byte-identical, checked against X-Wharf-Sha256', async () => {
    const detached = await wharf(['run', '-d', 'wharf/busybox', '--', 'sh', '-c', 'head -c 300000 /dev/urandom > /output/data.bin; mkdir -p /output/deep; echo x > /output/deep/a.txt']);
    const id = detached.stdout.trim();
    await waitFor('the task to succeed', async () => ((await taskOf(id)).status === 'succeeded' ? true : undefined), 60_000);
    const served = await admin.bytes(`/api/files/${id}/download/data.bin`);
    const cwd = tempDir('cli-cp');
    const cp = await wharf(['cp', `${id.slice(0, 8)}:data.bin`, 'copy.bin'], { cwd });
    expect(cp.code).toBe(0);
    expect(cp.stdout).toContain('sha256');
    const copy = readFileSync(join(cwd, 'copy.bin'));
    expect(copy.length).toBe(300_000);
    expect(sha256(copy)).toBe(served.headers.get('x-wharf-sha256'));
    expect(copy.equals(served.data)).toBe(true);
    const all = await wharf(['cp', `${id}:`, 'all'], { cwd });
    expect(all.code).toBe(0);
    expect(readFileSync(join(cwd, 'all', 'deep', 'a.txt'), 'utf8')).toBe('x\n');
    expect(readFileSync(join(cwd, 'all', 'data.bin')).equals(served.data)).toBe(true);
    const missing = await wharf(['cp', `${id}:nope.txt`, 'x'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no file or folder "nope.txt"');
    const files = await wharf(['files', id.slice(0, 6)]);
    expect(files.stdout).toContain(sha256(served.data));
  });

  it('lists tasks and workers for people (worker names, ages) and as JSON for scripts', async () => {
    const detached = await wharf(['run', '-d', '--name', 'sleeper', 'wharf/busybox', 'sleep', '60']);
    const id = detached.stdout.trim();
    cleanups.push(async () => void (await admin.request('DELETE', `/api/tasks/${id}`)));
    await waitFor('the task to run', async () => ((await taskOf(id)).status === 'running' ? true : undefined), 60_000);
    const ls = await wharf(['ls']);
    expect(ls.code).toBe(0);
    const row = screen(ls.stdout).split('\n').find((line) => line.startsWith(id.slice(0, 8)));
    expect(row).toMatch(new RegExp(`sleeper\\s+running\\s+wharf/busybox\\s+${workerName}\\s+\\d+s ago`));
    expect(ls.stdout).not.toContain('\x1b['); // no colours into a pipe
    const json = JSON.parse((await wharf(['ls', '-a', '-o', 'json'])).stdout) as { id: string; status: string }[];
    expect(json.find((t) => t.id === id)?.status).toBe('running');
    // filters go to the API: by worker name, a part of the name and statuses; a bad one is named
    const filteredRun = await wharf(['ls', '--status', 'running,queued', '--worker', workerName, '--name', 'SLEEP', '-o', 'json']);
    expect(filteredRun.code, filteredRun.stderr).toBe(0);
    const filtered = JSON.parse(filteredRun.stdout) as { id: string }[];
    expect(filtered.map((t) => t.id)).toEqual([id]);
    expect(JSON.parse((await wharf(['ls', '-a', '--name', 'sleeper', '--since', '1h', '--image', 'no/such-image', '-o', 'json'])).stdout)).toEqual([]);
    const badSince = await wharf(['ls', '--since', 'lately']);
    expect(badSince.code).not.toBe(0);
    expect(badSince.stderr).toContain('since: ');
    const get = await wharf(['get', id.slice(0, 7)]);
    expect(get.stdout).toMatch(new RegExp(`worker:\\s+${workerName}`));
    const workers = await wharf(['workers']);
    expect(workers.stdout).toMatch(new RegExp(`^${workerName}\\s+[0-9a-f]{8}\\s+ready\\s+yes\\s+docker`, 'm'));
    const yaml = await wharf(['workers', '-o', 'yaml']);
    expect(yaml.stdout).toContain(`name: ${workerName}`);
    const cancel = await wharf(['cancel', id.slice(0, 8)]);
    expect(cancel.code).toBe(0);
    expect((await taskOf(id)).status).toBe('cancelled');
  });

  it('makes, shows, changes and deletes a queue, and runs a task in it (wharf queue, wharf run --queue)', async () => {
    const name = `cli-${randomUUID().slice(0, 6)}`;
    const created = await wharf(['queue', 'create', name, '--max-concurrency', '0', '--default-priority', '30', '--strategy', 'binpack', '--selector', 'pool=gpu']);
    expect(created.code, created.stderr).toBe(0);
    expect(screen(created.stdout)).toMatch(new RegExp(`^${name}\\s+0\\s+0/0\\s+`, 'm'));
    const id = (await wharf(['run', '-d', '--queue', name, 'wharf/busybox', 'true'])).stdout.trim();
    const task = await waitFor('the task to wait on its queue cap', async () => {
      const t = await taskOf(id);
      return t.reason === `queue ${name}: 0/0 running tasks` ? t : undefined;
    });
    expect(task).toMatchObject({ queue: name, priority: 30 });
    const got = await wharf(['get', id]);
    expect(screen(got.stdout)).toMatch(new RegExp(`queue:\\s+${name}\\n`));
    const shown = await wharf(['queue', 'get', name]);
    expect(screen(shown.stdout)).toMatch(/running:\s+0\/0\n/);
    expect(screen(shown.stdout)).toMatch(/admin@wharf\.local\s+1\s+0\s+/);
    const refused = await wharf(['queue', 'rm', name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds 1 queued and 0 placed tasks/);
    expect((await wharf(['queue', 'set', name, '--max-concurrency', 'none', '--max-gpus', '4'])).code).toBe(0);
    const listed = await wharf(['queue', 'ls', '-o', 'json']);
    const queues = JSON.parse(listed.stdout) as { name: string; maxConcurrency: number | null; maxGpus: number | null }[];
    expect(queues.find((q) => q.name === name)).toMatchObject({ maxConcurrency: null, maxGpus: 4 });
    await admin.request('DELETE', `/api/tasks/${id}`);
    expect((await wharf(['queue', 'rm', name])).stdout).toContain(`deleted queue ${name}`);
  });

  it('drains and activates a worker named by its name (admins)', async () => {
    const drain = await wharf(['drain', workerName]);
    expect(drain.stdout).toContain(`worker ${workerName} (${worker.workerId.slice(0, 8)}) is draining`);
    expect((await admin.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`)).body.worker.status).toBe('draining');
    const activate = await wharf(['activate', workerName]);
    expect(activate.code).toBe(0);
    expect((await admin.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`)).body.worker.status).toBe('ready');
  });

  // ---- join tokens and worker removal: wharf join-token, wharf worker rm (issue 12 point 2) ----
  it('wharf join-token: a token a worker joins with, seen in ls with its use, revoked by prefix, then refused at Register', async () => {
    const created = await wharf(['join-token', 'create', '--uses', '2', '--expires', '1h', '--description', 'cli e2e']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trimEnd();
    expect(created.stdout).toBe(`${secret}\n`); // the secret alone: `> join-token` captures it
    expect(secret).toMatch(/^wharf_[a-z0-9]{6}\.[a-z0-9]{32}$/);
    expect(created.stderr).toContain(`--master ${master.grpcAddress} --token-file`);
    expect(created.stderr).toContain(`--ca-hash ${master.caHash}`);
    const id = secret.split('.')[0]!;

    const joinerName = `cli-e2e-joiner-${randomUUID().slice(0, 8)}`;
    const joiner = await startTestWorker({ ...master, joinToken: secret }, { name: joinerName });
    cleanups.push(() => joiner.stop());
    const ls = await wharf(['join-token', 'ls']);
    expect(ls.code).toBe(0);
    expect(screen(ls.stdout), ls.stdout + ls.stderr).toMatch(new RegExp(`^${id}\\s+cli e2e\\s+active\\s+1/2\\s+in (59m|1h)`, 'm'));

    const revoked = await wharf(['join-token', 'revoke', id.slice('wharf_'.length)]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked join token ${id}: no new worker can join with it`);
    const listed = JSON.parse((await wharf(['join-token', 'ls', '-o', 'json'])).stdout) as { id: string; state: string; uses: number; revokedAt: string | null }[];
    expect(listed.find((t) => t.id === id)).toMatchObject({ state: 'revoked', uses: 1, revokedAt: expect.any(String) });

    // a new worker presenting the revoked token is refused (a Register over real gRPC)
    const anonymous = await RawWorker.open(master);
    try {
      const refused = await callError(anonymous.join(secret, { name: 'after-revoke' }));
      expect(refused.code).toBe(grpcStatus.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
    expect((await admin.request<{ workers: { name: string }[] }>('GET', '/api/workers')).body.workers.map((w) => w.name)).not.toContain('after-revoke');

    // only admins manage join tokens: a user's token gets the API's refusal, exit 1
    const ada = await ApiClient.registered(master.httpUrl, `ada-jt-${randomUUID().slice(0, 6)}@example.com`);
    const forbidden = await wharf(['join-token', 'ls'], { env: { WHARF_URL: master.httpUrl, WHARF_TOKEN: ada.token! } });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('admins only [forbidden]');

    // wharf worker rm: no terminal and no --yes is a usage error; on a terminal n keeps it; --yes removes it
    const noYes = await wharf(['worker', 'rm', joinerName]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('no terminal to confirm on: pass --yes');
    const asked = onTerminal(['worker', 'rm', joinerName]);
    await asked.expect(new RegExp(`remove worker ${joinerName} \\(${joiner.workerId.slice(0, 8)}, ready; it runs no tasks\\)\\? \\[y/N\\] $`));
    asked.send('n');
    const kept = await asked.finished();
    expect(kept.code).toBe(0);
    expect(screen(kept.stdout)).toContain(`worker ${joinerName} is not removed`);
    expect((await admin.request<{ workers: { name: string }[] }>('GET', '/api/workers')).body.workers.map((w) => w.name)).toContain(joinerName);

    const removed = await wharf(['worker', 'rm', joinerName, '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`worker ${joinerName} (${joiner.workerId.slice(0, 8)}) is removed: its certificate is revoked`);
    const workers = JSON.parse((await wharf(['workers', '-o', 'json'])).stdout) as { id: string; name: string; status: string }[];
    expect(workers.filter((w) => w.id === joiner.workerId || (w.name === joinerName && w.status === 'ready'))).toEqual([]);
    expect(workers.map((w) => w.name)).toContain(workerName); // the suite's own worker is untouched
  });
  // ---- end: join tokens and worker removal ----

  it('answers the API\'s refusals with its message and code (exit 1) and usage errors with exit 2', async () => {
    const bad = await wharf(['run', 'wharf/busybox', '--memory', 'lots']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('wharf: resources.memory: must be a quantity such as 512Mi or 2Gi (got "lots") [validation_failed]\n');
    const usage = await wharf(['run', 'wharf/busybox', 'sh', '-c', 'echo x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('wharf run: unknown option -c');
    expect(usage.stderr).toContain("Run 'wharf run --help' for usage.");
    const unknownTask = await wharf(['get', 'fffffff']);
    expect(unknownTask.code).toBe(1);
    expect(unknownTask.stderr).toContain('no task id starts with "fffffff" [not_found]');
  });

  it('submits a job file (a list is one batch, all or nothing)', async () => {
    const cwd = tempDir('cli-submit');
    writeFileSync(join(cwd, 'jobs.yaml'), 'tasks:\n  - {image: wharf/busybox, command: "echo a", name: job-a}\n  - {image: wharf/busybox, command: "echo b", name: job-b}\n');
    const submit = await wharf(['submit', '-f', 'jobs.yaml', '-o', 'json'], { cwd });
    expect(submit.code).toBe(0);
    const tasks = JSON.parse(submit.stdout) as { id: string; name: string }[];
    expect(tasks.map((t) => t.name)).toEqual(['job-a', 'job-b']);
    writeFileSync(join(cwd, 'bad.yaml'), '- {image: wharf/busybox}\n- {image: wharf/busybox, priority: 900}\n');
    const bad = await wharf(['submit', '-f', 'bad.yaml'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/tasks\[1\]\.priority: .* \[validation_failed\]/);
    const stdin = await wharf(['submit', '-f', '-'], { input: 'image: wharf/busybox\ncommand: [echo, from-stdin]\nname: piped\n' });
    expect(stdin.stdout).toMatch(/^submitted [0-9a-f-]{36} \(piped\): queued/);
  });

  it('runs a DAG file and follows it to its end, then shows the run and its metrics', async () => {
    const cwd = tempDir('cli-dag');
    const name = `cli-pipeline-${randomUUID().slice(0, 6)}`;
    writeFileSync(join(cwd, 'pipeline.yaml'), trainPipelineYaml({ name }));
    const run = await wharf(['dag', 'run', 'pipeline.yaml', '--follow'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/submitted DAG run [0-9a-f-]{36} \(cli-pipeline-/);
    expect(run.stdout).toMatch(/train-model: succeeded/);
    expect(run.stdout).toMatch(/DAG run [0-9a-f]{8} succeeded in .*: 2\/2 tasks done/);
    const id = /submitted DAG run ([0-9a-f-]{36})/.exec(run.stdout)![1]!;
    const get = await wharf(['dag', 'get', id.slice(0, 8)]);
    expect(get.stdout).toMatch(/generate-data\s+succeeded/);
    expect(get.stdout).toContain('data.txt');
    const metrics = await wharf(['dag', 'metrics', name, '-o', 'json']);
    expect((JSON.parse(metrics.stdout) as { dagId: string }[]).map((r) => r.dagId)).toEqual([id]);
    const ls = await wharf(['dag', 'ls', '--name', name]);
    expect(ls.stdout).toMatch(new RegExp(`${id.slice(0, 8)}\\s+${name}\\s+succeeded\\s+2/2`));
    // a succeeded run: nothing to retry (the master's 409), but it can be re-run and followed
    const retry = await wharf(['dag', 'retry', id.slice(0, 8)]);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toMatch(/succeeded: no task to retry .*\[conflict\]/);
    const rerun = await wharf(['dag', 'rerun', id.slice(0, 8), '--follow']);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`DAG run [0-9a-f-]{36} \\(${name}\\) re-runs ${id.slice(0, 8)}: 2 tasks`));
    expect(rerun.stdout).toMatch(/DAG run [0-9a-f]{8} succeeded in .*: 2\/2 tasks done/);
    // another engine's fields: accepted, each named in a warning on stderr
    writeFileSync(join(cwd, 'helios.yaml'), `apiVersion: helios.io/v1\n${trainPipelineYaml({ name }).replace('    outputs: [data.txt]', '    serviceAccountName: runner\n    outputs: [data.txt]')}`);
    const helios = await wharf(['dag', 'run', 'helios.yaml', '-o', 'json'], { cwd });
    expect(helios.code).toBe(0);
    expect(helios.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: apiVersion: ignored: Wharf has no use for "apiVersion"/),
      expect.stringMatching(/^warning: tasks\[0\]\.serviceAccountName: ignored: Wharf has no use for "serviceAccountName"/),
    ]);
    writeFileSync(join(cwd, 'loop.yaml'), 'dagName: loop\ntasks:\n  - {name: a, image: wharf/busybox, depends_on: [b]}\n  - {name: b, image: wharf/busybox, depends_on: [a]}\n');
    const loop = await wharf(['dag', 'run', 'loop.yaml'], { cwd });
    expect(loop.code).toBe(1);
    expect(loop.stderr).toMatch(/cycle: .* \[validation_failed\]/);
  });

  it('creates an API token shown once, usable as WHARF_TOKEN, refused once revoked', async () => {
    const create = await wharf(['token', 'create', 'ci-e2e', '--expires', '1h']);
    expect(create.code).toBe(0);
    const secret = create.stdout.trim();
    expect(secret).toMatch(/^wharf_pat_[A-Za-z0-9_-]{43}$/);
    expect(create.stderr).toContain('the only time its secret is shown');
    const asCi = { WHARF_URL: master.httpUrl, WHARF_TOKEN: secret };
    const elsewhere = tempDir('cli-ci-home'); // a CI machine: no config at all
    const whoami = await wharf(['whoami'], { env: asCi, home: elsewhere });
    expect(whoami.stdout).toContain('admin@wharf.local (admin)');
    expect(whoami.stdout).toContain('API token');
    const ls = await wharf(['token', 'ls']);
    expect(ls.stdout).toMatch(/ci-e2e\s+wharf_pat_\S+…\s+\d+s ago\s+in (1h|59m)/);
    expect(ls.stdout).not.toContain(secret);
    const revoke = await wharf(['token', 'revoke', 'ci-e2e']);
    expect(revoke.code).toBe(0);
    const refused = await wharf(['ls'], { env: asCi, home: elsewhere });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('API token not recognised (revoked, or never issued) [unauthenticated]');
    expect(refused.stderr).toContain('hint: the master refused WHARF_TOKEN');
  });

  it('colours tables on a terminal only, and never with NO_COLOR', async () => {
    await submittedTaskId();
    const tty = await onTerminal(['ls', '-a', '--limit', '3']).finished();
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\x1b\[3[1-6]m(queued|assigned|running|succeeded|failed|cancelled)\x1b\[39m/);
    const noColor = await onTerminal(['ls', '-a', '--limit', '3'], { NO_COLOR: '1' }).finished();
    expect(noColor.stdout).not.toContain('\x1b[');
    expect(screen(noColor.stdout)).toContain('STATUS');
  });

  it('Ctrl-C on a terminal asks whether to cancel or detach; c cancels the task (exit 130)', async () => {
    const proc = onTerminal(['run', '--name', 'interrupt-me', 'wharf/busybox', '--', 'sh', '-c', 'echo started; sleep 60']);
    await proc.expect(/started/);
    proc.send('\x03');
    await proc.expect(/cancel task [0-9a-f]{8} or detach \(it keeps running\)\? \[c\/d\]/);
    proc.send('c');
    const run = await proc.finished();
    expect(run.code).toBe(130);
    expect(screen(run.stdout)).toMatch(/the task was cancelled \(cancelled by admin@wharf\.local\)/);
    const tasks = (await admin.request<{ tasks: (TaskBody & { name: string })[] }>('GET', '/api/tasks?limit=50')).body.tasks;
    expect(tasks.find((t) => t.name === 'interrupt-me')?.status).toBe('cancelled');
  });

  it('Ctrl-C on a terminal then d detaches: exit 0, the task keeps running', async () => {
    const proc = onTerminal(['run', '--name', 'detach-me', 'wharf/busybox', '--', 'sh', '-c', 'echo started; sleep 60']);
    await proc.expect(/started/);
    proc.send('\x03');
    await proc.expect(/\[c\/d\]/);
    proc.send('d');
    const run = await proc.finished();
    expect(run.code).toBe(0);
    const id = /detached from task ([0-9a-f-]{36})/.exec(screen(run.stdout))?.[1];
    expect(id).toBeDefined();
    cleanups.push(async () => void (await admin.request('DELETE', `/api/tasks/${id}`)));
    expect((await taskOf(id!)).status).toBe('running');
  });

  it('Ctrl-C without a terminal detaches at once, prints the id and exits 130', async () => {
    const proc = start(['run', '--name', 'piped', 'wharf/busybox', '--', 'sh', '-c', 'echo started; sleep 60']);
    await proc.expect(/started/);
    proc.child.kill('SIGINT');
    const run = await proc.finished();
    expect(run.code).toBe(130);
    const id = /detached from task ([0-9a-f-]{36}); it keeps running/.exec(run.stderr)?.[1];
    expect(id).toBeDefined();
    cleanups.push(async () => void (await admin.request('DELETE', `/api/tasks/${id}`)));
    expect((await taskOf(id!)).status).toBe('running');
  });

  it('completes commands, options and task ids in bash', async () => {
    const id = await submittedTaskId();
    const script = [
      'source <(wharf completion bash)',
      'complete -p wharf',
      'COMP_WORDS=(wharf lo); COMP_CWORD=1; _wharf_complete; echo "1:${COMPREPLY[*]}"',
      'COMP_WORDS=(wharf logs -f ""); COMP_CWORD=3; _wharf_complete; echo "2:${COMPREPLY[*]}"',
      'COMP_WORDS=(wharf ls --status f); COMP_CWORD=3; _wharf_complete; echo "3:${COMPREPLY[*]}"',
      `COMP_WORDS=(wharf drain ${workerName.slice(0, 6)}); COMP_CWORD=2; _wharf_complete; echo "4:\${COMPREPLY[*]}"`,
    ].join('\n');
    // asynchronously: the master answering the completion's questions runs in this process
    const { stdout: out } = await execFileAsync('bash', ['-c', script], { env: env({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}` }) });
    expect(out).toContain('complete -o default -F _wharf_complete wharf');
    expect(out).toMatch(/^1:logs login logout$/m);
    expect(out).toMatch(new RegExp(`^2:.*${id}`, 'm'));
    expect(out).toMatch(/^3:failed$/m);
    expect(out).toMatch(new RegExp(`^4:${workerName}$`, 'm'));
  });

  it('completes in zsh through the same candidates (skipped, saying so, where zsh is not installed)', async (context) => {
    let zsh = '';
    try {
      zsh = (await execFileAsync('sh', ['-c', 'command -v zsh'])).stdout.trim();
    } catch {
      // not installed
    }
    if (!zsh) {
      console.log('zsh completion test skipped: zsh is not installed on this machine (apt-get install zsh runs it)');
      context.skip();
      return;
    }
    const id = await submittedTaskId();
    // compadd and _files only work inside a completion widget: stand-ins print what they are given
    const script = [
      'autoload -U compinit; compinit -u -d "$ZCOMPDUMP"',
      'source <(wharf completion zsh)',
      'print -r -- "registered:${_comps[wharf]}"',
      'compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}" }',
      '_files() { print -r -- "(files)" }',
      'words=(wharf ""); CURRENT=2; _wharf',
      'words=(wharf logs -f ""); CURRENT=4; _wharf',
      'words=(wharf dag run ""); CURRENT=4; _wharf',
    ].join('\n');
    const { stdout } = await execFileAsync(zsh, ['-f', '-c', script], {
      env: env({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, ZCOMPDUMP: join(tempDir('cli-zsh'), 'zcompdump') }),
    });
    const lines = stdout.split('\n');
    expect(lines).toContain('registered:_wharf');
    expect(lines).toEqual(expect.arrayContaining(['run', 'logs', 'login', 'dag', 'token', id, '(files)']));
  });

  it('logs in to an https master with the cluster CA given by --cacert (and only then)', async (context) => {
    try {
      await execFileAsync('openssl', ['version']);
    } catch {
      console.log('https test skipped: the openssl command (to make a test CA and certificate) is not installed here');
      context.skip();
      return;
    }
    const dir = tempDir('cli-tls');
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=wharf-e2e-ca']);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf']);
    // a TLS terminator in front of the master's HTTP port: REST and WebSocket bytes pass through
    const masterPort = Number(new URL(master.httpUrl).port);
    const proxy: TlsServer = createTlsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')) }, (socket) => {
      const upstream = netConnect(masterPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const address = proxy.address();
    const url = `https://localhost:${typeof address === 'object' && address ? address.port : 0}`;
    const tlsHome = tempDir('cli-tls-home');

    const untrusted = await wharf(['login', url, '--email', 'admin@wharf.local', '--password-stdin'], { input: 'admin-password', home: tlsHome });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('its TLS certificate is not trusted');
    expect(untrusted.stderr).toContain('--cacert');

    const login = await wharf(['login', url, '--cacert', join(dir, 'ca.crt'), '--email', 'admin@wharf.local', '--password-stdin'], {
      input: 'admin-password',
      home: tlsHome,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    // the CA is remembered with the context: REST and the log WebSocket both over TLS
    const run = await wharf(['run', 'wharf/busybox', '--', 'sh', '-c', 'echo over-tls; exit 4'], { home: tlsHome });
    expect(run.stdout).toBe('over-tls\n');
    expect(run.code).toBe(4);
    // WHARF_CACERT works without a saved context
    const token = (await wharf(['token', 'create', 'tls-ci'], { home: tlsHome })).stdout.trim();
    const ci = await wharf(['whoami'], { env: { WHARF_URL: url, WHARF_TOKEN: token, WHARF_CACERT: join(dir, 'ca.crt') }, home: tempDir('cli-tls-ci') });
    expect(ci.stdout).toContain('admin@wharf.local (admin)');
  });

  it('logs in to a master that serves HTTPS itself (WHARF_TLS=on) with the CA it publishes at /api/cluster/ca.crt, and runs a task over it', async () => {
    const tlsMaster = await startTestMaster({ WHARF_TLS: 'on', WHARF_CANCEL_GRACE: '1s' });
    cleanups.push(() => tlsMaster.stop());
    expect(tlsMaster.httpUrl).toMatch(/^https:\/\//);
    const tlsWorker = await startTestWorker(tlsMaster, { name: `${workerName}-tls` });
    cleanups.push(() => tlsWorker.stop());
    // what the docs tell a user: fetch the CA without verification (curl -k), check it against
    // the hash the master printed, then trust only it
    const caPem = await new Promise<string>((resolve, reject) => {
      httpsGet(`${tlsMaster.httpUrl}/api/cluster/ca.crt`, { rejectUnauthorized: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => (res.headers['x-wharf-ca-hash'] === tlsMaster.caHash ? resolve(text) : reject(new Error(`CA hash ${String(res.headers['x-wharf-ca-hash'])}`))));
      }).on('error', reject);
    });
    expect(caCertificateHash(caPem)).toBe(tlsMaster.caHash);
    const caFile = join(tempDir('cli-cluster-ca'), 'wharf-ca.crt');
    writeFileSync(caFile, caPem);
    const tlsHome = tempDir('cli-cluster-tls-home');

    const untrusted = await wharf(['login', tlsMaster.httpUrl, '--email', 'admin@wharf.local', '--password-stdin'], { input: 'admin-password', home: tlsHome });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('--cacert');
    const login = await wharf(['login', tlsMaster.httpUrl, '--cacert', caFile, '--email', 'admin@wharf.local', '--password-stdin'], {
      input: 'admin-password',
      home: tlsHome,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    // REST and the log WebSocket (wss) with the master's own certificate
    const run = await wharf(['run', 'wharf/busybox', '--', 'sh', '-c', 'echo over-cluster-tls; exit 3'], { home: tlsHome });
    expect(run.stdout).toBe('over-cluster-tls\n');
    expect(run.code).toBe(3);
    const workers = await wharf(['workers'], { home: tlsHome });
    expect(workers.stdout).toContain(`${workerName}-tls`);
  });
});
