// The one-line join (issue 15, point 2): a machine with Node, curl and nothing of Wharf joins
// with the line the master prints,
//   curl -fsSL --pinnedpubkey 'sha256//…' -k https://MASTER:PORT/join.sh | sh -s -- --token T --ca-hash sha256:…
// join.sh downloads the worker bundle from the same master, checks its sha256 and runs it.
//
// - On this machine (loopback HTTPS): what the routes serve, the API's description of the line,
//   and --install-service's unit checked by `systemd-analyze verify`.
// - A second "machine" (root and `ip netns` needed, else a printed skip): a network namespace
//   behind a veth pair, a temp dir with no clone, a fresh HOME and an empty environment; the
//   master listens on the host end of the pair, so the machine reaches it over a non-loopback
//   address and HTTPS. It runs the printed line with sh, joins and runs a Docker task; a bundle
//   that is not the one join.sh announced is refused and not run; the pin refuses a master
//   with another server key.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { dirname, join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyPin } from '../master/src/cluster/join-kit.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, tempDir, TEST_IMAGE, TEST_TASK_NETWORK, waitFor } from './support/cluster.js';
import { createVethNamespace, netnsUnavailable, type VethNamespace } from './support/netns.js';

const KIT_DIR = join(REPO_ROOT, 'worker/dist');
const BUNDLE = join(KIT_DIR, 'wharf-worker.mjs');
if (!existsSync(BUNDLE) || !existsSync(join(KIT_DIR, 'join.sh'))) {
  throw new Error('worker/dist/wharf-worker.mjs or worker/dist/join.sh is missing: run npm run build (make build) first');
}
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

type Master = Awaited<ReturnType<typeof startTestMaster>>;
const masters: Master[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(masters.splice(0).map((m) => m.stop()));
});
afterAll(async () => {
  await removeTempDirs();
});

interface Reply {
  status: number;
  text: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  peer: X509Certificate | undefined;
}

/** What curl does against the master's HTTPS port (its CA trusted, or -k), with a Host header of our choosing. */
function request(url: string, options: { ca?: string; method?: string; token?: string; body?: unknown; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        headers: {
          ...(options.host ? { host: options.host } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerX509Certificate?.();
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, text: body.toString('utf8'), body, headers: res.headers, peer });
        });
      },
    );
    req.on('error', reject);
    if (options.body) req.write(JSON.stringify(options.body));
    req.end();
  });
}

/** Runs a command to its end without blocking this process (the test masters live in it). */
function runToEnd(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function adminToken(m: Master): Promise<string> {
  const login = await request(`${m.httpUrl}/api/auth/login`, { ca: m.caCertificatePem, method: 'POST', body: { email: 'admin@wharf.local', password: 'admin-password' } });
  expect(login.status).toBe(200);
  return (JSON.parse(login.text) as { token: string }).token;
}

/** A join kit of the test's own (a copy of worker/dist's), so a test can change the bundle the master serves. */
function copyOfKit(): string {
  const dir = tempDir('join-kit');
  copyFileSync(BUNDLE, join(dir, 'wharf-worker.mjs'));
  copyFileSync(join(KIT_DIR, 'join.sh'), join(dir, 'join.sh'));
  return dir;
}

/** `shellVar(script, 'WHARF_URL')`: the value join.sh was filled in with. */
function shellVar(script: string, name: string): string | undefined {
  return new RegExp(`^${name}='([^']*)'$`, 'm').exec(script)?.[1];
}

describe('the one-line join on the master', () => {
  it('serves join.sh filled in for the address it was fetched at, and the bundle whose sha256 it announces', async () => {
    const m = await startTestMaster({ WHARF_TLS: 'on' });
    masters.push(m);
    const bundleBytes = readFileSync(BUNDLE);
    const port = new URL(m.httpUrl).port;

    const script = await request(`${m.httpUrl}/join.sh`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/x-shellscript/);
    expect(script.headers['x-wharf-bundle-sha256']).toBe(sha256(bundleBytes));
    expect(shellVar(script.text, 'WHARF_URL')).toBe(`https://127.0.0.1:${port}`);
    expect(shellVar(script.text, 'WHARF_GRPC_ADDRESS')).toBe(m.grpcAddress);
    expect(shellVar(script.text, 'WHARF_CA_HASH')).toBe(m.caHash);
    expect(shellVar(script.text, 'BUNDLE_SHA256')).toBe(sha256(bundleBytes));
    // the pin is of the key the HTTPS port shows, and it is the printed line's
    const pin = shellVar(script.text, 'WHARF_PIN');
    expect(pin).toBe(publicKeyPin(script.peer!.toString()));
    expect(m.httpsKeyPin).toBe(pin);
    expect(m.oneLineJoinCommand).toBe(
      `curl -fsSL --pinnedpubkey '${pin}' -k https://127.0.0.1:${port}/join.sh | sh -s -- --token ${m.joinToken} --ca-hash ${m.caHash}`,
    );

    // fetched by another name: the bundle comes from there too; a Host header that is not a
    // plain host is ignored
    const byName = await request(`${m.httpUrl}/join.sh`, { host: `localhost:${port}` });
    expect(shellVar(byName.text, 'WHARF_URL')).toBe(`https://localhost:${port}`);
    const odd = await request(`${m.httpUrl}/join.sh`, { host: `x'$(id)':${port}` });
    expect(odd.status).toBe(200);
    expect(shellVar(odd.text, 'WHARF_URL')).toBe(`https://127.0.0.1:${port}`);

    const bundle = await request(`${m.httpUrl}/join/wharf-worker.mjs`);
    expect(bundle.status).toBe(200);
    expect(sha256(bundle.body)).toBe(sha256(bundleBytes));
    expect(bundle.headers['x-wharf-bundle-sha256']).toBe(sha256(bundleBytes));

    // admins get the line (and a token's line with its secret) from the API
    const token = await adminToken(m);
    const join = await request(`${m.httpUrl}/api/cluster/join`, { ca: m.caCertificatePem, token });
    expect(JSON.parse(join.text)).toMatchObject({
      caHash: m.caHash,
      oneLine: {
        available: true,
        command: `curl -fsSL --pinnedpubkey '${pin}' -k https://127.0.0.1:${port}/join.sh | sh -s -- --token <join token> --ca-hash ${m.caHash}`,
        scriptUrl: `https://127.0.0.1:${port}/join.sh`,
        pinnedPublicKey: pin,
        bundleSha256: sha256(bundleBytes),
        warning: null,
      },
    });
    const created = await request(`${m.httpUrl}/api/join-tokens`, { ca: m.caCertificatePem, token, method: 'POST', body: { expiresIn: '1h', usageLimit: 1 } });
    expect(created.status).toBe(201);
    const { secret, oneLineCommand } = JSON.parse(created.text) as { secret: string; oneLineCommand: string };
    expect(oneLineCommand).toContain(`| sh -s -- --token ${secret} --ca-hash ${m.caHash}`);
    // the public routes need no token; the API's line does
    expect((await request(`${m.httpUrl}/api/cluster/join`, { ca: m.caCertificatePem })).status).toBe(401);
  });

  it('says the one-line join is unavailable, and why, when the master has no bundle to serve', async () => {
    const m = await startTestMaster({ WHARF_TLS: 'on' }, undefined, { joinKitDir: tempDir('empty-kit') });
    masters.push(m);
    expect(m.oneLineJoinCommand).toBeUndefined();
    expect(m.oneLineJoinWarning).toMatch(/no worker bundle to serve .*make build/);
    const script = await request(`${m.httpUrl}/join.sh`);
    expect(script.status).toBe(503);
    expect(JSON.parse(script.text)).toMatchObject({ error: { code: 'unavailable', message: expect.stringMatching(/make build/) as unknown } });
    expect((await request(`${m.httpUrl}/join/wharf-worker.mjs`)).status).toBe(503);
    const join = await request(`${m.httpUrl}/api/cluster/join`, { ca: m.caCertificatePem, token: await adminToken(m) });
    expect(JSON.parse(join.text)).toMatchObject({ oneLine: { available: false, command: null, warning: expect.stringMatching(/make build/) as unknown } });
  });

  it('--install-service writes a systemd unit that systemd-analyze verify accepts, and the token only into a 0600 file', async (context) => {
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.status !== 0) {
      console.warn("skipping the systemd unit check: systemd-analyze is missing (Debian's systemd package has it: apt-get install systemd)");
      context.skip();
    }
    const m = await startTestMaster({ WHARF_TLS: 'on' });
    masters.push(m);
    const machine = tempDir('service-machine');
    const env = {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: join(machine, 'home'),
      WHARF_HOME: join(machine, 'opt'),
      WHARF_SYSTEMD_DIR: join(machine, 'systemd'),
      WHARF_ETC_DIR: join(machine, 'etc'),
    };
    mkdirSync(env.HOME);
    const line = `${m.oneLineJoinCommand!} --install-service --data-dir ${join(machine, 'data')} --name 'rack 4 %h' --label zone=a --runtimes exec`;
    // not spawnSync: the master answers from this process
    const run = await runToEnd('sh', ['-c', line], { cwd: machine, env });
    expect(run.stderr).toContain('worker file checked');
    expect(run.status).toBe(0);
    const unitPath = join(env.WHARF_SYSTEMD_DIR, 'wharf-worker.service');
    const unit = readFileSync(unitPath, 'utf8');
    expect(unit).toContain(`EnvironmentFile=${join(env.WHARF_ETC_DIR, 'wharf-worker.env')}`);
    expect(unit).toContain(
      `ExecStart=${process.execPath} ${join(env.WHARF_HOME, 'bin/wharf-worker.mjs')} --master ${m.grpcAddress} --ca-hash ${m.caHash} --name "rack 4 %%h" --label zone=a --runtimes exec`,
    );
    expect(unit).not.toContain(m.joinToken);
    const envFile = join(env.WHARF_ETC_DIR, 'wharf-worker.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toContain(`WHARF_JOIN_TOKEN="${m.joinToken}"`);
    expect(readFileSync(envFile, 'utf8')).toContain(`WHARF_DATA_DIR="${join(machine, 'data')}"`);
    expect(sha256(readFileSync(join(env.WHARF_HOME, 'bin/wharf-worker.mjs')))).toBe(sha256(readFileSync(BUNDLE)));

    const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
    expect(`${verify.stdout}${verify.stderr}`).toBe('');
    expect(verify.status).toBe(0);
    // systemd-analyze does check: a unit whose program is missing fails
    writeFileSync(unitPath, unit.replace(`ExecStart=${process.execPath}`, 'ExecStart=/nonexistent/node'));
    expect(spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' }).status).not.toBe(0);
  });
});

const netnsReason = netnsUnavailable();
const curlReason = spawnSync('curl', ['--version']).status === 0 ? undefined : "curl is missing (Debian's curl package)";
const skipReason = netnsReason ?? curlReason;
if (skipReason) console.warn(`skipping the second-machine tests of test/join-one-line.test.ts: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('a second machine with no clone, in a network namespace of its own', () => {
  const docker = new Dockerode();
  let ns: VethNamespace;
  let master: Master;
  let kitDir: string;

  beforeAll(async () => {
    ns = createVethNamespace('wharf-join-');
    kitDir = copyOfKit();
    // both ports on the host end of the pair: beyond loopback, so HTTPS (WHARF_TLS auto)
    master = await startTestMaster({ WHARF_HOST: ns.hostAddress }, undefined, { joinKitDir: kitDir });
  }, 60_000);

  afterAll(async () => {
    await master?.stop();
    ns?.remove();
  });

  /** A fresh "machine": its own dir and HOME, an empty environment, a PATH with node, curl and sh. */
  function machine(name: string): { dir: string; home: string; env: string[] } {
    const dir = tempDir(`machine-${name}`);
    const home = join(dir, 'home');
    mkdirSync(home);
    return { dir, home, env: ['env', '-i', `HOME=${home}`, `PATH=${dirname(process.execPath)}:/usr/bin:/bin`] };
  }

  /** Runs `sh -c script` on the machine (inside the namespace, in its dir). */
  function onMachine(m: { dir: string; env: string[] }, script: string): ChildProcess {
    const child = spawn('ip', ns.execArgs(m.env[0]!, ...m.env.slice(1), 'sh', '-c', `cd '${m.dir}' && ${script}`), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  }

  function output(child: ChildProcess): { text: () => string; exited: Promise<number | null> } {
    let text = '';
    child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { text: () => text, exited };
  }

  it('joins with the printed line over HTTPS to a non-loopback address, and runs a Docker task', async () => {
    const line = master.oneLineJoinCommand!;
    expect(line).toMatch(new RegExp(`^curl -fsSL --pinnedpubkey 'sha256//[A-Za-z0-9+/=]{44}' -k https://${ns.hostAddress.replace(/\./g, '\\.')}:\\d+/join\\.sh \\| sh -s -- --token `));
    const box = machine('a');
    // the file's own tasks network (removed by removeTempDirs), not the machine-wide wharf-tasks
    const child = onMachine(box, `${line} --name second-machine --runtimes docker --task-network ${TEST_TASK_NETWORK}`);
    const out = output(child);
    const token = await adminToken(master);
    const api = (path: string, init: { method?: string; body?: unknown } = {}) => request(`${master.httpUrl}${path}`, { ca: master.caCertificatePem, token, ...init });

    const workerId = await waitFor('the second machine to join', async () => {
      if (child.exitCode !== null) throw new Error(`join.sh ended early (${child.exitCode}):\n${out.text()}`);
      const workers = JSON.parse((await api('/api/workers')).text) as { workers: { id: string; name: string; connected: boolean; version: string }[] };
      return workers.workers.find((w) => w.name === 'second-machine' && w.connected);
    }, 90_000);
    try {
      expect(out.text()).toContain('worker file checked');
      expect(workerId.version).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'worker/package.json'), 'utf8')).version);
      // what the machine holds: the checked bundle, the worker's identity; nothing of a clone
      expect(sha256(readFileSync(join(box.home, '.wharf/bin/wharf-worker.mjs')))).toBe(sha256(readFileSync(BUNDLE)));
      expect(existsSync(join(box.home, '.wharf/worker/tls/worker.crt'))).toBe(true);
      expect(readdirSync(box.dir)).toEqual(['home']);

      const submitted = await api('/api/tasks', {
        method: 'POST',
        body: { name: 'on-the-second-machine', image: TEST_IMAGE, command: 'echo hello from the second machine', resources: { cpu: '100m', memory: '32Mi' } },
      });
      expect(submitted.status).toBe(201);
      const id = (JSON.parse(submitted.text) as { task: { id: string } }).task.id;
      const done = await waitFor('the task to finish', async () => {
        const task = (JSON.parse((await api(`/api/tasks/${id}`)).text) as { task: { status: string; workerId?: string } }).task;
        return ['succeeded', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
      }, 90_000);
      expect(done).toMatchObject({ status: 'succeeded', workerId: workerId.id });
      expect((await api(`/api/tasks/${id}/logs`)).text).toContain('hello from the second machine');
    } finally {
      child.kill('SIGTERM');
      await out.exited;
      const containers = await docker.listContainers({ all: true, filters: { label: [`wharf.worker=${workerId.id}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    }
  }, 180_000);

  it('refuses a worker bundle that is not the one join.sh announced, and runs nothing of it', async () => {
    const box = machine('b');
    const marker = join(box.dir, 'tampered-bundle-ran');
    // join.sh as the machine got it (pinned), then the bundle changes on its way: what the
    // master serves now is not what that join.sh announced
    const fetched = output(onMachine(box, `${master.oneLineJoinCommand!.split(' | ')[0]} > join.sh`));
    expect(await fetched.exited).toBe(0);
    const bundlePath = join(kitDir, 'wharf-worker.mjs');
    const original = readFileSync(bundlePath);
    writeFileSync(bundlePath, Buffer.concat([original, Buffer.from(`\nrequire('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`)]));
    try {
      const run = output(onMachine(box, `sh join.sh --token ${master.joinToken} --ca-hash ${master.caHash} --runtimes exec`));
      expect(await run.exited).toBe(1);
      expect(run.text()).toContain(`REFUSED: the worker file downloaded has sha256 ${sha256(readFileSync(bundlePath))}, but the master announced ${sha256(original)}`);
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(join(box.home, '.wharf/bin/wharf-worker.mjs'))).toBe(false);
      expect(readdirSync(join(box.home, '.wharf/bin'))).toEqual([]);
    } finally {
      writeFileSync(bundlePath, original);
    }
  }, 60_000);

  it('refuses a master with another server key: curl stops at the pin and sh gets nothing', async () => {
    // another master on the same address (its own data dir: its own key), as an impostor would be
    const impostor = await startTestMaster({ WHARF_HOST: ns.hostAddress }, undefined, { joinKitDir: kitDir });
    masters.push(impostor);
    expect(impostor.httpsKeyPin).not.toBe(master.httpsKeyPin);
    const box = machine('c');
    const line = master.oneLineJoinCommand!.replace(`:${master.httpPort}/join.sh`, `:${impostor.httpPort}/join.sh`);
    const run = output(onMachine(box, `${line} --runtimes exec`));
    await run.exited;
    expect(run.text()).toContain('SSL: public key does not match pinned public key');
    expect(run.text()).not.toContain('wharf join:');
    expect(existsSync(join(box.home, '.wharf'))).toBe(false);
    // the same line against the real master passes the pin (a control: the refusal was the key)
    const control = output(onMachine(box, `${master.oneLineJoinCommand!.split(' | ')[0]} -o /dev/null -w '%{http_code}'`));
    expect(await control.exited).toBe(0);
    expect(control.text()).toBe('200');
  }, 60_000);
});
