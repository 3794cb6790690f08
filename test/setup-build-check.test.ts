// Fast starts (issue 15, point 3): scripts/setup.sh — what runMaster.sh and runWorker.sh run
// before starting — builds a part only when nothing is built yet or its sources changed since
// its last build (tests are not sources of a build), and never the dashboard for a worker
// (--worker).
//
// The real setup.sh and build-state.mjs run in a small tree of their own (a temp dir laid out
// like the repository, with a few source files); its `build` scripts are stand-ins that write
// the outputs setup.sh checks for and log each build, so the test sees what setup.sh decided to
// build without building Wharf.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, removeTempDirs, tempDir } from './support/cluster.js';

afterAll(async () => {
  await removeTempDirs();
});

let root = '';

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** The parts the stand-in builds ran, in order, since the last call. */
function builds(): string[] {
  let log = '';
  try {
    log = readFileSync(join(root, 'builds.log'), 'utf8');
  } catch {
    return [];
  }
  rmSync(join(root, 'builds.log'));
  return log.split('\n').filter(Boolean);
}

function setup(...args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(root, 'scripts/setup.sh'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

// what the stand-in builds write: the outputs scripts/build-state.mjs checks for
const CODE_OUTPUTS = ['proto/dist/index.js', 'master/dist/cli.js', 'worker/dist/cli.js', 'worker/dist/wharf-worker.mjs', 'worker/dist/join.sh', 'cli/dist/wharf.js'];
const STAND_IN_BUILD = `
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
const [part, ...outputs] = process.argv.slice(2);
for (const output of outputs) {
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, 'built');
}
appendFileSync(process.env.BUILDS_LOG, part + '\\n');
`;

beforeEach(() => {
  root = tempDir('setup-tree');
  for (const script of ['scripts/setup.sh', 'scripts/build-state.mjs']) {
    mkdirSync(dirname(join(root, script)), { recursive: true });
    copyFileSync(join(REPO_ROOT, script), join(root, script));
  }
  write('stand-in-build.mjs', STAND_IN_BUILD);
  write(
    'package.json',
    JSON.stringify({
      name: 'setup-tree',
      private: true,
      workspaces: ['ui'],
      scripts: { build: `BUILDS_LOG=${join(root, 'builds.log')} node stand-in-build.mjs code ${CODE_OUTPUTS.join(' ')}` },
    }),
  );
  write(
    'ui/package.json',
    JSON.stringify({ name: '@wharf/ui', private: true, scripts: { build: `BUILDS_LOG=${join(root, 'builds.log')} node ../stand-in-build.mjs ui dist/index.html` } }),
  );
  write('package-lock.json', '{}\n');
  write('master/src/main.ts', 'export const a = 1;\n');
  write('worker/src/main.ts', 'export const b = 1;\n');
  write('proto/src/units.ts', 'export const c = 1;\n');
  write('proto/src/index.ts', 'export const d = 1;\n');
  write('ui/src/format.ts', "import { c } from '../../proto/src/units.ts';\nexport const e = c;\n");
  // dependencies installed (a clone's: typescript there) after the lock file was written
  mkdirSync(join(root, 'node_modules/typescript'), { recursive: true });
  write('node_modules/.wharf-installed', '');
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(root, 'node_modules/.wharf-installed'), later, later);
});

describe('scripts/setup.sh builds only what changed', () => {
  it('builds everything on a clean checkout, nothing when nothing changed, and only the part whose sources changed', async () => {
    const first = await setup();
    expect(first.status, first.output).toBe(0);
    expect(builds()).toEqual(['code', 'ui']);

    const again = await setup();
    expect(again.status, again.output).toBe(0);
    expect(again.output).toContain('setup: up to date (no source changed since the last build)');
    expect(builds()).toEqual([]);

    write('master/src/main.ts', 'export const a = 2;\n');
    await setup();
    expect(builds()).toEqual(['code']);

    // tests are not built: a new or changed one builds nothing
    write('master/src/main.test.ts', 'export {};\n');
    write('ui/src/format.test.ts', 'export {};\n');
    expect((await setup()).output).toContain('setup: up to date');
    expect(builds()).toEqual([]);

    write('ui/src/format.ts', "import { c } from '../../proto/src/units.ts';\nexport const e = c + 1;\n");
    await setup();
    expect(builds()).toEqual(['ui']);

    // the dashboard imports proto/src/units.ts: a change there rebuilds both; one in a proto
    // file the dashboard does not import rebuilds the code only
    write('proto/src/units.ts', 'export const c = 2;\n');
    await setup();
    expect(builds()).toEqual(['code', 'ui']);
    write('proto/src/index.ts', 'export const d = 2;\n');
    await setup();
    expect(builds()).toEqual(['code']);

    // a new lock file (new dependencies) rebuilds both; a missing output rebuilds its part
    write('package-lock.json', '{"lockfileVersion":3}\n');
    const later = new Date(Date.now() + 120_000);
    utimesSync(join(root, 'node_modules/.wharf-installed'), later, later);
    await setup();
    expect(builds()).toEqual(['code', 'ui']);
    rmSync(join(root, 'worker/dist/wharf-worker.mjs'));
    await setup();
    expect(builds()).toEqual(['code']);

    // --force builds everything again
    await setup('--force');
    expect(builds()).toEqual(['code', 'ui']);
  }, 60_000);

  it('never builds the dashboard for a worker (--worker), even when it was never built', async () => {
    const worker = await setup('--worker');
    expect(worker.status, worker.output).toBe(0);
    expect(builds()).toEqual(['code']);
    write('ui/src/format.ts', 'export const e = 3;\n');
    expect((await setup('--worker')).output).toContain('setup: up to date');
    expect(builds()).toEqual([]);
    // a master start afterwards builds the dashboard it has not got
    await setup();
    expect(builds()).toEqual(['ui']);
  }, 60_000);
});
