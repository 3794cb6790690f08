// Whether a part of Wharf must be built again: a fingerprint (SHA-256 over the paths and
// contents) of the part's sources (tests excluded), compared with the one recorded after its last build, and
// whether its outputs are there. scripts/setup.sh asks before building, so runMaster.sh and
// runWorker.sh start at once when nothing changed.
//
//   node scripts/build-state.mjs stale code ui   prints the parts that need a build, one a line
//   node scripts/build-state.mjs record code     records the part as built (after a build)
//
// Parts: `code` (proto, master, worker, cli: TypeScript, the generated proto types, the CLI and
// worker bundles) and `ui` (the dashboard, built by Vite). Both depend on package-lock.json.
// Records are kept in .wharf/build-state.json (a clean checkout has none: everything is stale).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RECORD = join(ROOT, '.wharf', 'build-state.json');

const PARTS = {
  code: {
    inputs: [
      'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json',
      'proto/package.json', 'proto/tsconfig.json', 'proto/wharf.proto', 'proto/src',
      'master/package.json', 'master/tsconfig.json', 'master/src',
      'worker/package.json', 'worker/tsconfig.json', 'worker/src', 'worker/join', 'worker/scripts',
      'cli/package.json', 'cli/tsconfig.json', 'cli/src', 'cli/scripts', 'cli/bin',
    ],
    outputs: ['proto/dist/index.js', 'master/dist/cli.js', 'worker/dist/cli.js', 'worker/dist/wharf-worker.mjs', 'worker/dist/join.sh', 'cli/dist/wharf.js'],
  },
  ui: {
    inputs: ['package-lock.json', 'ui/package.json', 'ui/tsconfig.json', 'ui/vite.config.ts', 'ui/index.html', 'ui/src', 'ui/public'],
    // and what those sources import from elsewhere in the repository
    followImportsOutside: 'ui',
    outputs: ['ui/dist/index.html'],
  },
};

/** Tests are not built: editing one rebuilds nothing. */
const TEST_FILE = /\.test\.tsx?$/;

/** Every file under `path` (or `path` itself) but tests, relative to the root; none when missing. */
function files(path) {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const child = join(dir, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && !TEST_FILE.test(entry.name)) found.push(relative(ROOT, child));
    }
  };
  try {
    walk(full);
  } catch (error) {
    if (error.code !== 'ENOTDIR') throw error;
    found.push(path);
  }
  return found;
}

/**
 * Files outside `dir` that the sources in it import by relative path (the dashboard imports
 * proto/src/units.ts), followed from file to file: they are inputs too.
 */
function importedFrom(sources, dir) {
  const seen = new Set(sources);
  const queue = [...sources];
  const found = [];
  while (queue.length > 0) {
    const file = queue.pop();
    // what tests import does not go into the build
    if (!/\.(ts|tsx|js|mjs)$/.test(file) || TEST_FILE.test(file)) continue;
    for (const [, specifier] of readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(ROOT, join(ROOT, dirname(file), specifier));
      if (seen.has(target) || !existsSync(join(ROOT, target)) || !target.endsWith('.ts')) continue;
      seen.add(target);
      queue.push(target);
      if (!target.startsWith(`${dir}/`)) found.push(target);
    }
  }
  return found;
}

function fingerprint(part) {
  const hash = createHash('sha256');
  const sources = PARTS[part].inputs.flatMap(files);
  const followed = PARTS[part].followImportsOutside ? importedFrom(sources, PARTS[part].followImportsOutside) : [];
  const all = [...new Set([...sources, ...followed])].sort();
  for (const file of all) {
    hash.update(file).update('\0').update(readFileSync(join(ROOT, file))).update('\0');
  }
  return hash.digest('hex');
}

function readRecord() {
  try {
    return JSON.parse(readFileSync(RECORD, 'utf8'));
  } catch {
    return {};
  }
}

const [command, ...parts] = process.argv.slice(2);
for (const part of parts) {
  if (!(part in PARTS)) {
    console.error(`build-state: unknown part ${part} (${Object.keys(PARTS).join(', ')})`);
    process.exit(2);
  }
}
if (command === 'stale') {
  const record = readRecord();
  for (const part of parts) {
    const missing = PARTS[part].outputs.some((output) => !existsSync(join(ROOT, output)));
    if (missing || record[part] !== fingerprint(part)) console.log(part);
  }
} else if (command === 'record') {
  const record = readRecord();
  for (const part of parts) record[part] = fingerprint(part);
  mkdirSync(dirname(RECORD), { recursive: true });
  writeFileSync(`${RECORD}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${RECORD}.tmp`, RECORD);
} else {
  console.error('usage: node scripts/build-state.mjs stale|record code|ui ...');
  process.exit(2);
}
