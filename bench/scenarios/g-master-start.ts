// Scenario g: how fast a restarted master answers. `./runMaster.sh` (the script an operator runs:
// the build check of scripts/setup.sh, then the master) is started again on the data dir of a
// master that ran before, with nothing changed since the last build, and timed from the spawn
// to the first 200 of GET /health. Target: 3 s. Baseline, measured in the same run on the same
// data dir: `node master/dist/cli.js` itself, the floor the script can reach.
//
// It measures a start with nothing to build (and checks that nothing was built), so it needs an
// install and a build that are up to date (`make bench` runs setup first); otherwise it says so
// rather than letting runMaster.sh install or build in the middle of a run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from '../../test/support/cluster.js';
import { median, round, sleep, type ScenarioResult } from '../support/types.js';

export interface MasterStartOptions {
  /** timed restarts of each kind (runMaster.sh, and the baseline) */
  restarts: number;
}

const TARGET_S = 3;
const HEALTH_TIMEOUT_MS = 120_000;

interface Started {
  child: ChildProcess;
  seconds: number;
  output: string;
}

/** Spawns `command`, polls /health until it answers 200; answers the seconds that took. */
async function startAndTime(command: string, args: string[], env: NodeJS.ProcessEnv, httpPort: number): Promise<Started> {
  let output = '';
  const startedAt = performance.now();
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited (${child.exitCode}) before /health answered:\n${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${httpPort}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`/health did not answer within ${HEALTH_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    await sleep(10);
  }
  return { child, seconds: (performance.now() - startedAt) / 1000, output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Why runMaster.sh would install or build before starting (what scripts/setup.sh checks), or undefined. */
export function setupPending(): string | undefined {
  const mtime = (path: string): number | undefined => {
    try {
      return statSync(join(REPO_ROOT, path)).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const installed = mtime('node_modules/.wharf-installed');
  if (installed === undefined || (mtime('package-lock.json') ?? 0) > installed) return 'the dependencies are older than package-lock.json (run make build)';
  const stale = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build-state.mjs'), 'stale', 'code', 'ui'], { encoding: 'utf8' });
  if (stale.status !== 0) throw new Error(`scripts/build-state.mjs failed: ${stale.stderr}`);
  const parts = stale.stdout.trim().split('\n').filter(Boolean);
  return parts.length > 0 ? `sources changed since the last build of ${parts.join(' and ')} (run make build)` : undefined;
}

export async function runMasterStartScenario(options: MasterStartOptions): Promise<ScenarioResult> {
  const pending = setupPending();
  if (pending) throw new Error(`scenario g measures a start with nothing to build, but ${pending}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bench-start-'));
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WHARF_DATA_DIR: dataDir,
    WHARF_HOST: '127.0.0.1',
    WHARF_HTTP_PORT: String(httpPort),
    WHARF_GRPC_PORT: String(grpcPort),
    WHARF_LOG_LEVEL: 'warn',
  };
  delete env.WHARF_SKIP_SETUP;
  const script: number[] = [];
  const direct: number[] = [];
  let builtOnRestart = 0;
  try {
    // the first start makes the data dir's CA, keys and secrets: not what a restart does
    const first = await startAndTime('bash', ['runMaster.sh', '--no-repl'], env, httpPort);
    await stop(first.child);
    for (let i = 0; i < options.restarts; i += 1) {
      const viaScript = await startAndTime('bash', ['runMaster.sh', '--no-repl'], env, httpPort);
      await stop(viaScript.child);
      script.push(viaScript.seconds);
      if (!viaScript.output.includes('setup: up to date')) builtOnRestart += 1;
      const viaNode = await startAndTime(process.execPath, ['master/dist/cli.js', '--no-repl'], env, httpPort);
      await stop(viaNode.child);
      direct.push(viaNode.seconds);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const value = round(median(script), 2);
  const baseline = round(median(direct), 2);
  return {
    scenario: 'g',
    title: 'master restart: runMaster.sh to /health with nothing to build',
    rows: [
      {
        scenario: 'g',
        metric: `runMaster.sh restart → /health (median of ${options.restarts})`,
        value,
        unit: 's',
        baseline,
        baselineLabel: 'node master/dist/cli.js',
        ratio: round(value / baseline),
        target: `≤ ${TARGET_S} s`,
        met: value <= TARGET_S,
      },
      {
        scenario: 'g',
        metric: 'runMaster.sh restart → /health (slowest)',
        value: round(Math.max(...script), 2),
        unit: 's',
        baseline: round(Math.max(...direct), 2),
        baselineLabel: 'node master/dist/cli.js',
        ratio: round(Math.max(...script) / Math.max(...direct)),
        target: `≤ ${TARGET_S} s`,
        met: Math.max(...script) <= TARGET_S,
      },
    ],
    checks: { restarts: script.length, healthy: script.length, builtOnRestart },
    notes: [
      'each restart runs scripts/setup.sh (its Node check and build check, which find nothing to do), then the master, on the data dir of a master that ran before; the baseline starts the master alone',
    ],
  };
}
