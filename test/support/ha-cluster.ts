// Several masters as real processes (test/ha-failover.test.ts, bench scenario i): masters on one
// data dir (one SQLite file, one cluster CA, one join token), each with its own ports, started
// from the built master/dist/cli.js, and the probes that find the leader among them.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, REPO_ROOT, waitFor } from './cluster.js';

export interface MasterProcess {
  name: string;
  child: ChildProcess;
  httpUrl: string;
  grpcAddress: string;
  output: () => string;
  /** the exit code (null when killed by a signal) */
  exit: Promise<number | null>;
}

/** Starts a master process on `dataDir` and waits for its /health (leader or standby). */
export async function startMasterProcess(name: string, dataDir: string, env: Record<string, string> = {}): Promise<MasterProcess> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  let output = '';
  const child = spawn(process.execPath, [join(REPO_ROOT, 'master/dist/cli.js'), '--no-repl'], {
    env: {
      ...process.env,
      WHARF_DATA_DIR: dataDir,
      WHARF_HOST: '127.0.0.1',
      WHARF_HTTP_PORT: String(httpPort),
      WHARF_GRPC_PORT: String(grpcPort),
      WHARF_ADMIN_PASSWORD: 'admin-password',
      WHARF_HEARTBEAT_INTERVAL: '1s',
      WHARF_LOGIN_RATE_LIMIT: '1000',
      WHARF_AUTH_RATE_LIMIT: '100000',
      WHARF_JOIN_RATE_LIMIT: '10000',
      WHARF_JOIN_RATE_BURST: '10000',
      WHARF_LOG_LEVEL: 'info',
      // the default lease (WHARF_LEASE_TTL 5s, WHARF_LEASE_RENEW 1s) and heartbeat TTL (15s, the workers' --stop-after)
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => void (output = (output + d.toString()).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const master = { name, child, httpUrl: `http://127.0.0.1:${httpPort}`, grpcAddress: `127.0.0.1:${grpcPort}`, output: () => output, exit };
  await waitFor(`master ${name} to answer /health`, async () => {
    if (child.exitCode !== null) throw new Error(`master ${name} exited (${child.exitCode}):\n${output}`);
    return (await fetch(`${master.httpUrl}/health`)).ok;
  }, 60_000, 200);
  return master;
}

export interface LeadershipHealth {
  role: string;
  epoch: number | null;
  leader: string | null;
}

/** The master's /health, or undefined when it does not answer within a second (killed, frozen). */
export async function healthOf(master: MasterProcess): Promise<LeadershipHealth | undefined> {
  try {
    const response = await fetch(`${master.httpUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return response.ok ? ((await response.json()) as LeadershipHealth) : undefined;
  } catch {
    return undefined;
  }
}

export async function leaderAmong(masters: readonly MasterProcess[]): Promise<MasterProcess | undefined> {
  for (const master of masters) if ((await healthOf(master))?.role === 'leader') return master;
  return undefined;
}

/** The CA hash the first master printed in its join line. */
export function caHashOf(master: MasterProcess): string {
  const hash = /--ca-hash (sha256:[0-9a-f]+)/.exec(master.output())?.[1];
  if (!hash) throw new Error(`no --ca-hash in the output of master ${master.name}`);
  return hash;
}
