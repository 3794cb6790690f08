// Join tokens like Kubernetes bootstrap tokens, tried against a real master over loopback gRPC
// with TLS: admins create them with an expiry and a use limit, list them without secrets and
// revoke them; an expired, revoked or used-up token admits nobody; joins are rate-limited per
// address and every refusal is counted in /metrics; the token never shows in `ps`.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { caCertificateHash } from '@wharf/proto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, tempDir, waitFor } from '../support/cluster.js';
import { callError, RawWorker } from '../support/raw-worker.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
const masters: Master[] = [];
const raws: RawWorker[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  await Promise.all(masters.splice(0).map((m) => m.stop()));
});
afterAll(async () => {
  await removeTempDirs();
});

async function master(env: Record<string, string> = {}): Promise<Master> {
  const started = await startTestMaster(env);
  masters.push(started);
  return started;
}

async function raw(m: Master): Promise<RawWorker> {
  const client = await RawWorker.open(m);
  raws.push(client);
  return client;
}

async function metric(m: Master, pattern: RegExp): Promise<number> {
  const text = await fetch(`${m.httpUrl}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => pattern.test(l));
  return line ? Number(line.split(' ').pop()) : 0;
}

interface TokenView {
  id: string;
  uses: number;
  usageLimit: number | null;
  expiresAt: string | null;
  state: string;
  startToken: boolean;
  description: string;
}

describe('join tokens', () => {
  it('lets an admin create, list and revoke tokens; an expired, a revoked and a used-up token admit nobody', async () => {
    const m = await master();
    const admin = await ApiClient.admin(m.httpUrl);
    const client = await raw(m);

    const created = await admin.request<{ token: TokenView; secret: string; command: string }>('POST', '/api/join-tokens', {
      description: 'rack 4',
      expiresIn: '24h',
      usageLimit: 1,
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(new RegExp(`^${created.body.token.id}\\.[a-z0-9]{32}$`));
    expect(created.body.token).toMatchObject({ description: 'rack 4', usageLimit: 1, uses: 0, state: 'active', startToken: false });
    expect(Date.parse(created.body.token.expiresAt!) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(created.body.command).toContain(`--ca-hash ${m.caHash}`);

    // used up: one worker joins, the next is refused
    const first = await client.join(created.body.secret);
    expect(first.workerId).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    const usedUp = await callError(client.join(created.body.secret));
    expect(usedUp).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(usedUp.details).toContain(`join token ${created.body.token.id} has been used up`);

    // expired
    const short = await admin.request<{ token: TokenView; secret: string }>('POST', '/api/join-tokens', { expiresIn: '1s' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await callError(client.join(short.body.secret))).details).toContain(`join token ${short.body.token.id} expired at`);

    // revoked
    const doomed = await admin.request<{ token: TokenView; secret: string }>('POST', '/api/join-tokens', {});
    const revoked = await admin.request<{ token: { revokedAt: string | null; state: string } }>('DELETE', `/api/join-tokens/${doomed.body.token.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.state).toBe('revoked');
    expect((await callError(client.join(doomed.body.secret))).details).toContain(`join token ${doomed.body.token.id} was revoked`);
    // a made-up secret for a real id, and garbage, get one answer
    expect((await callError(client.join(`${doomed.body.token.id}.${'a'.repeat(32)}`))).details).toBe('invalid join token');

    // the list: every token with its state, the start token among them, and no secret anywhere
    const list = await admin.request<{ tokens: TokenView[] }>('GET', '/api/join-tokens');
    const states = Object.fromEntries(list.body.tokens.map((t) => [t.id, t.state]));
    expect(states).toMatchObject({ [created.body.token.id]: 'used_up', [short.body.token.id]: 'expired', [doomed.body.token.id]: 'revoked' });
    expect(list.body.tokens.find((t) => t.startToken)).toMatchObject({ id: m.joinToken.split('.')[0], state: 'active', usageLimit: null, expiresAt: null });
    for (const secret of [created.body.secret, short.body.secret, doomed.body.secret, m.joinToken]) {
      expect(list.text).not.toContain(secret.split('.')[1]);
    }
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="used_up_token"\}/)).toBe(1);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="expired_token"\}/)).toBe(1);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="revoked_token"\}/)).toBe(1);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="invalid_token"\}/)).toBe(1);
  });

  it('refuses a join without a fencing bound before it counts a use of the token or signs anything', async () => {
    const m = await master();
    const admin = await ApiClient.admin(m.httpUrl);
    const { body } = await admin.request<{ token: TokenView; secret: string }>('POST', '/api/join-tokens', { usageLimit: 1 });
    const client = await raw(m);
    // an older worker: no fencing in its Register (the master holds a lost worker's tasks for its bound)
    const unfenced = await callError(client.join(body.secret, { fencing: undefined }));
    expect(unfenced.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unfenced.details).toMatch(/^fencing: /);
    // one too long for this master
    const tooLong = await callError(client.join(body.secret, { fencing: { stopAfterMs: 3600_000, stopGraceMs: 0 } }));
    expect(tooLong.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(tooLong.details).toContain("exceeds this master's --max-stop-after");
    expect((await admin.request<{ tokens: TokenView[] }>('GET', '/api/join-tokens')).body.tokens.find((t) => t.id === body.token.id)).toMatchObject({ uses: 0, state: 'active' });
    expect(await m.store.listWorkers()).toEqual([]);
    // the token's one use is still there for a worker that declares its bound
    expect((await client.join(body.secret)).workerId).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
  });

  it('enrols exactly N workers with a token for N when N+3 try at once', async () => {
    const m = await master();
    const admin = await ApiClient.admin(m.httpUrl);
    const { body } = await admin.request<{ token: TokenView; secret: string }>('POST', '/api/join-tokens', { usageLimit: 4 });
    const clients = await Promise.all(Array.from({ length: 7 }, () => raw(m)));
    const outcomes = await Promise.allSettled(clients.map((c, i) => c.join(body.secret, { name: `racer-${i}` })));
    const joined = outcomes.filter((o) => o.status === 'fulfilled');
    expect(joined).toHaveLength(4);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(
      Array(3).fill(grpc.status.UNAUTHENTICATED),
    );
    expect(await m.store.listWorkers()).toHaveLength(4);
    const token = (await admin.request<{ tokens: TokenView[] }>('GET', '/api/join-tokens')).body.tokens.find((t) => t.id === body.token.id);
    expect(token).toMatchObject({ uses: 4, state: 'used_up' });
  });

  it('answers bad input with a 400 naming the field, and keeps tokens to admins', async () => {
    const m = await master();
    const admin = await ApiClient.admin(m.httpUrl);
    const user = await ApiClient.registered(m.httpUrl, 'tokens-user@example.com');
    expect((await user.request('GET', '/api/join-tokens')).status).toBe(403);
    expect((await user.request('POST', '/api/join-tokens', {})).status).toBe(403);
    expect((await user.request('GET', '/api/cluster/join')).status).toBe(403);
    expect((await new ApiClient(m.httpUrl).request('GET', '/api/join-tokens')).status).toBe(401);
    const bad = await admin.request<{ error: { code: string; message: string } }>('POST', '/api/join-tokens', { expiresIn: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('expiresIn');
    expect((await admin.request<{ error: { message: string } }>('POST', '/api/join-tokens', { usageLimit: 0 })).body.error.message).toContain('usageLimit');
    expect((await admin.request('POST', '/api/join-tokens', { secret: 'mine' })).status).toBe(400);
    expect((await admin.request('DELETE', '/api/join-tokens/wharf_nosuch')).status).toBe(404);
    expect((await admin.request('DELETE', '/api/join-tokens/Not%20An%20Id')).status).toBe(400);
    // the join line and the CA, for the dashboard and curl
    const joinLine = await admin.request<{ grpcAddress: string; caHash: string; command: string }>('GET', '/api/cluster/join');
    expect(joinLine.body).toMatchObject({
      grpcAddress: m.grpcAddress,
      caHash: m.caHash,
      command: `./runWorker.sh --master ${m.grpcAddress} --token-file <file with a join token> --ca-hash ${m.caHash}`,
      // a loopback-only master: plain HTTP, nothing to pin (test/join-one-line.test.ts has the rest)
      oneLine: { available: true, command: `curl -fsSL ${m.httpUrl}/join.sh | sh -s -- --token <join token> --ca-hash ${m.caHash}`, pinnedPublicKey: null },
    });
    const ca = await fetch(`${m.httpUrl}/api/cluster/ca.crt`); // public, like the CA itself
    expect(ca.status).toBe(200);
    expect(caCertificateHash(await ca.text())).toBe(m.caHash);
  });

  it('rate-limits joins per address (certificate holders are not limited) and counts every refusal', async () => {
    const m = await master({ WHARF_JOIN_RATE_LIMIT: '1', WHARF_JOIN_RATE_BURST: '3' });
    const client = await raw(m);
    const joined = await client.join(m.joinToken);
    expect((await callError(client.join('wharf_guess1.0123456789abcdef0123'))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await callError(client.join('wharf_guess2.0123456789abcdef0123'))).code).toBe(grpc.status.UNAUTHENTICATED);
    const limited = await callError(client.join(m.joinToken));
    expect(limited.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(limited.details).toMatch(/too many join attempts from this address; try again in \d+s/);
    // a joined worker re-registers with its certificate whatever the join limit says
    const member = client.as(joined.identity);
    raws.push(member);
    expect((await member.register({})).workerId).toBe(joined.workerId);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="invalid_token"\}/)).toBe(2);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="rate_limited"\}/)).toBe(1);
  });

  it('never shows the token in ps: runWorker.sh passes it to the worker in its environment', async () => {
    const m = await master();
    const secret = m.joinToken.split('.')[1]!;
    const tokenFile = join(tempDir('token'), 'join-token');
    writeFileSync(tokenFile, `${m.joinToken}\n`, { mode: 0o600 });
    for (const tokenArgs of [['--token-file', tokenFile], ['--token', m.joinToken]]) {
      const dataDir = tempDir('runworker');
      const child = spawn('bash', [join(REPO_ROOT, 'runWorker.sh'), '--master', m.grpcAddress, ...tokenArgs, '--ca-hash', m.caHash, '--runtimes', 'exec', '--name', `ps-${tokenArgs[0]}`], {
        env: { ...process.env, WHARF_DATA_DIR: dataDir, WHARF_SKIP_SETUP: '1', WHARF_JOIN_TOKEN: '', WHARF_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      try {
        await waitFor('the runWorker.sh worker to join', () => m.registry.list().some((w) => w.record.name === `ps-${tokenArgs[0]}` && w.channel), 30_000);
        // runWorker.sh exec'd the worker: same pid, now node
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        expect(cmdline.some((arg) => arg.endsWith('worker/dist/cli.js'))).toBe(true);
        expect(cmdline.join(' ')).not.toContain(secret);
        // and no process on this machine shows it
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          let line = '';
          try {
            line = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            continue; // gone meanwhile
          }
          expect(line, `process ${pid}`).not.toContain(secret);
        }
        if (tokenArgs[0] === '--token') expect(output).toContain('warning: --token puts the join token where every user of this machine can read it (ps)');
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
  });
});
