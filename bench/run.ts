// `make bench` entry point: runs the scenarios (all, or --only a,c), prints one table and
// writes bench/results/latest.json. Sizes: --workers --tasks (a), --dispatch (b), --lines (c),
// --bytes (d), --hb-workers --hb-seconds --hb-interval (e), --ops (f), --restarts (g),
// --auth-requests --auth-flood (h), --ha-tasks (i).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/support/cluster.js';
import { runSchedulingComparison } from './scenarios/a-scheduling.js';
import { runDispatchScenario } from './scenarios/b-dispatch.js';
import { runLogScenario } from './scenarios/c-logs.js';
import { runUploadScenario } from './scenarios/d-upload.js';
import { runHeartbeatScenario } from './scenarios/e-heartbeats.js';
import { runStoreScenario } from './scenarios/f-store.js';
import { runMasterStartScenario } from './scenarios/g-master-start.js';
import { runAuthScenario } from './scenarios/h-auth.js';
import { runFailoverScenario } from './scenarios/i-failover.js';
import type { MetricRow, ScenarioResult } from './support/types.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'a,b,c,d,e,f,g,h,i' },
    workers: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '20000' },
    dispatch: { type: 'string', default: '30' },
    lines: { type: 'string', default: '200000' },
    bytes: { type: 'string', default: String(256 * 1024 * 1024) },
    'hb-workers': { type: 'string', default: '5000' },
    'hb-seconds': { type: 'string', default: '60' },
    'hb-interval': { type: 'string', default: '5s' },
    ops: { type: 'string', default: '20000' },
    restarts: { type: 'string', default: '5' },
    'auth-requests': { type: 'string', default: '5000' },
    'auth-flood': { type: 'string', default: '150' },
    'ha-tasks': { type: 'string', default: '500' },
  },
});

const only = new Set((values.only ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const int = (s: string | undefined): number => {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${s}`);
  return Math.floor(n);
};

const scenarios: [string, () => Promise<ScenarioResult>][] = [
  ['a', () => runSchedulingComparison({ workers: int(values.workers), tasks: int(values.tasks) })],
  ['b', () => runDispatchScenario({ tasks: int(values.dispatch) })],
  ['c', () => runLogScenario({ lines: int(values.lines) })],
  ['d', () => runUploadScenario({ bytes: int(values.bytes) })],
  ['e', () => runHeartbeatScenario({ workers: int(values['hb-workers']), durationMs: int(values['hb-seconds']) * 1000, interval: values['hb-interval'] ?? '5s' })],
  ['f', () => runStoreScenario({ ops: int(values.ops) })],
  ['g', () => runMasterStartScenario({ restarts: int(values.restarts) })],
  ['h', () => runAuthScenario({ requests: int(values['auth-requests']), flood: int(values['auth-flood']) })],
  ['i', () => runFailoverScenario({ tasks: int(values['ha-tasks']) })],
];

function fmt(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '-';
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}

function table(rows: MetricRow[]): string {
  const header = ['scenario', 'metric', 'value', 'baseline', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === null ? '-' : `${fmt(r.baseline)} (${r.baselineLabel})`,
    fmt(r.ratio),
    r.target || '-',
    r.met === null ? '-' : r.met ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const results: ScenarioResult[] = [];
  for (const [name, run] of scenarios) {
    if (!only.has(name)) continue;
    const start = Date.now();
    process.stderr.write(`bench: scenario ${name} ...\n`);
    try {
      const result = await run();
      results.push(result);
      process.stderr.write(`bench: scenario ${name} done in ${((Date.now() - start) / 1000).toFixed(1)} s — ${result.title}\n`);
    } catch (error: unknown) {
      process.stderr.write(`bench: scenario ${name} FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      results.push({ scenario: name, title: 'failed', rows: [], checks: { error: String(error) }, notes: [] });
    }
  }
  const rows = results.flatMap((r) => r.rows);
  console.log(table(rows));
  for (const result of results) for (const note of result.notes) console.log(`  ${result.scenario}: ${note}`);
  for (const result of results) console.log(`  ${result.scenario} checks: ${JSON.stringify(result.checks)}`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), node: process.version, platform: `${process.platform}-${process.arch}` };
  const dir = join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ timestamp: new Date().toISOString(), machine, args: values, results }, null, 2)}\n`);
  console.log(`  wrote bench/results/latest.json`);
  if (results.some((r) => r.title === 'failed')) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
