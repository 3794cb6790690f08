// A master in its own process (the built master/dist/cli.js), on loopback, with a temp data
// dir: so its CPU can be read from /proc/<pid>/stat and the load generator does not share its
// event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caCertificateHash } from '@wharf/proto';
import { ApiClient } from '../../test/support/api-client.js';
import { REPO_ROOT, freePort } from '../../test/support/cluster.js';
import { sleep } from './types.js';

export interface MasterProcess {
  pid: number;
  httpUrl: string;
  grpcAddress: string;
  joinToken: string;
  /** the master's CA hash (workers pin it with --ca-hash) */
  caHash: string;
  admin: ApiClient;
  /** utime+stime of the master process, in seconds of CPU */
  cpuSeconds(): number;
  output(): string;
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export async function startMasterProcess(env: Record<string, string> = {}): Promise<MasterProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bench-master-'));
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const joinToken = 'wharf_bench0.join_token_0123456789abcdef';
  // WHARF_BENCH_PROFILE=<dir>: write a V8 CPU profile of the master into <dir> when it stops
  const profileDir = process.env.WHARF_BENCH_PROFILE;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'master/dist/cli.js')], {
    env: {
      ...process.env,
      WHARF_DATA_DIR: dataDir,
      WHARF_HOST: '127.0.0.1',
      WHARF_HTTP_PORT: String(httpPort),
      WHARF_GRPC_PORT: String(grpcPort),
      WHARF_JOIN_TOKEN: joinToken,
      WHARF_JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
      WHARF_ADMIN_PASSWORD: 'admin-password',
      WHARF_LOGIN_RATE_LIMIT: '1000',
      // the simulated workers all join from 127.0.0.1 at once
      WHARF_JOIN_RATE_LIMIT: '100000',
      WHARF_JOIN_RATE_BURST: '100000',
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`master exited early: ${output}`);
    try {
      const response = await fetch(`${httpUrl}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`master did not start within 30s: ${output}`);
    }
    await sleep(100);
  }
  const admin = await ApiClient.admin(httpUrl);
  const pid = child.pid ?? 0;
  return {
    pid,
    httpUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    joinToken,
    // the CA the master made in its data dir at start
    caHash: caCertificateHash(readFileSync(join(dataDir, 'tls', 'ca.crt'))),
    admin,
    cpuSeconds() {
      // fields after the ")" of comm: state is 3rd field overall; utime 14th, stime 15th
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
