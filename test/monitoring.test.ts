// deploy/monitoring/ (Prometheus alert rules, their unit tests, an example scrape config and a
// Grafana board) checked by Prometheus' own tool and against a real master: promtool checks the
// rules and the config and runs the rules' unit tests; every expression of the Grafana board is
// fed to promtool too; and every metric name, label and fixed label value that the rules and the
// board read must appear in GET /metrics of a real master that ran a task on a real Docker
// worker. Last, a real Prometheus server (Debian's, beside promtool) scrapes a real master with
// the example config and the alert rules: every board query answers data, no alert is raised on
// a healthy cluster, and losing the only worker raises WharfNoReadyWorkers and WharfWorkerLost.
// Grafana itself is not installable here (it is not in Debian's archive), so the board is checked
// for structure (datasource variable, targets, unique ids, a grid without overlaps), not loaded
// into a Grafana.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { freePort, REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, tempDir, TEST_IMAGE, waitFor } from './support/cluster.js';
import { expressionNames, exposedMetrics, type ExposedMetric } from './support/promql-names.js';
import { findPrometheus, findPromtool } from './support/promtool.js';

const PROMETHEUS_DIR = join(REPO_ROOT, 'deploy/monitoring/prometheus');
const RULES_FILE = join(PROMETHEUS_DIR, 'wharf-alerts.yml');
const RULE_TESTS_FILE = join(PROMETHEUS_DIR, 'wharf-alerts.test.yml');
const DASHBOARD_FILE = join(REPO_ROOT, 'deploy/monitoring/grafana/wharf-dashboard.json');

const promtool = findPromtool();
const promtoolMissing = 'unavailable' in promtool ? promtool.unavailable : undefined;
if (promtoolMissing) console.log(`deploy/monitoring promtool checks skipped: ${promtoolMissing}`);
const prometheus = findPrometheus();
const prometheusMissing = 'unavailable' in prometheus ? prometheus.unavailable : undefined;
if (prometheusMissing) console.log(`deploy/monitoring checks on a real Prometheus skipped: ${prometheusMissing}`);

function runPromtool(args: string[], cwd = PROMETHEUS_DIR): { status: number | null; output: string } {
  const result = spawnSync((promtool as { path: string }).path, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

// ------------------------------------------------------------------ the files as data

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}
interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x?: number; y?: number; w?: number; h?: number };
  targets?: Target[];
  collapsed?: boolean;
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  title?: string;
  uid?: string;
  schemaVersion?: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const alertRules: AlertRule[] = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);
const ruleTests = parse(readFileSync(RULE_TESTS_FILE, 'utf8')) as RuleTests;
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
/** every panel, those inside collapsed rows too */
const allPanels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = allPanels.filter((p) => p.type !== 'row');

/** Grafana's variables replaced by values PromQL accepts, so promtool can check the syntax. */
function withVariablesResolved(expr: string, values: { instance: string; rateInterval: string } = { instance: 'master:8080', rateInterval: '1m' }): string {
  return expr
    .replaceAll('$__rate_interval', values.rateInterval)
    .replaceAll('$__interval', values.rateInterval)
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(instance)\}?/g, values.instance)
    .replace(/\$\{?(worker)\}?/g, '.*');
}

/** A Grafana `label_values(selector, label)` variable query. */
function labelValuesQuery(query: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query.trim());
  if (!match) throw new Error(`not a label_values() query: ${query}`);
  return { selector: match[1]!, label: match[2]! };
}

function variableQuery(variable: Variable): string {
  return typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
}

/** What the rules and the board read, each with where it comes from. */
function allExpressions(): { where: string; expr: string; legend?: string | undefined }[] {
  const list: { where: string; expr: string; legend?: string | undefined }[] = alertRules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }));
  for (const panel of queryPanels) {
    for (const target of panel.targets ?? []) {
      list.push({ where: `panel "${panel.title}" target ${target.refId}`, expr: target.expr ?? '', legend: target.legendFormat });
    }
  }
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    list.push({ where: `variable $${variable.name}`, expr: labelValuesQuery(variableQuery(variable)).selector });
  }
  return list;
}

// ------------------------------------------------------------------ the PromQL reader itself

describe('the PromQL name reader the checks below rely on', () => {
  it('finds metric names and matchers, and skips functions, aggregations, keywords, ranges and variables', () => {
    const read = expressionNames(
      'histogram_quantile(0.99, sum by (job, le) (rate(wharf_store_operation_seconds_bucket{operation=~"commit|commitMany", instance="$instance"}[$__rate_interval]))) > 0.25 ' +
        'and on (instance) (wharf_queue_depth offset 5m) unless sum without (state) (increase(wharf_tasks_finished_total{state!="cancelled"}[30m:1m])) ' +
        '* on (instance, worker_id) group_left (worker_name) wharf_worker_info or {__name__="up", job=\'wharf-master\'} == bool 0',
    );
    expect(read.selectors).toEqual([
      { metric: 'wharf_store_operation_seconds_bucket', matchers: [{ label: 'operation', op: '=~', value: 'commit|commitMany' }, { label: 'instance', op: '=', value: '$instance' }] },
      { metric: 'wharf_queue_depth', matchers: [] },
      { metric: 'wharf_tasks_finished_total', matchers: [{ label: 'state', op: '!=', value: 'cancelled' }] },
      { metric: 'wharf_worker_info', matchers: [] },
      { metric: 'up', matchers: [{ label: 'job', op: '=', value: 'wharf-master' }] },
    ]);
    expect(read.groupingLabels).toEqual(['job', 'le', 'instance', 'state', 'instance', 'worker_id', 'worker_name']);
  });

  it('reads an exposition into metrics with their labels and values, histogram samples under their own names', () => {
    const metrics = exposedMetrics(
      [
        '# HELP wharf_x_seconds x',
        '# TYPE wharf_x_seconds histogram',
        'wharf_x_seconds_bucket{le="0.5",op="a \\"quoted\\" b"} 1',
        'wharf_x_seconds_bucket{le="+Inf",op="c"} 1',
        'wharf_x_seconds_sum{op="c"} 0.1',
        'wharf_x_seconds_count{op="c"} 1',
        '# TYPE wharf_up gauge',
        'wharf_up 1',
        '',
      ].join('\n'),
    );
    expect([...metrics.keys()].sort()).toEqual(['wharf_up', 'wharf_x_seconds', 'wharf_x_seconds_bucket', 'wharf_x_seconds_count', 'wharf_x_seconds_sum']);
    expect(metrics.get('wharf_x_seconds_bucket')?.type).toBe('histogram');
    expect([...(metrics.get('wharf_x_seconds_bucket')?.labels.get('le') ?? [])]).toEqual(['0.5', '+Inf']);
    expect([...(metrics.get('wharf_x_seconds_bucket')?.labels.get('op') ?? [])]).toEqual(['a "quoted" b', 'c']);
    expect(metrics.get('wharf_up')?.labels.size).toBe(0);
  });
});

// ------------------------------------------------------------------ the alert rules

/** The alerts the rules must have (issue 17): name → what it watches. */
const REQUIRED_ALERTS = [
  'WharfNoReadyWorkers',
  'WharfQueueWaitHigh',
  'WharfWorkerLost',
  'WharfTaskFailureRatioHigh',
  'WharfMasterDiskAlmostFull',
  'WharfWebSocketClientsLagged',
  'WharfStoreCommitSlow',
];

describe('deploy/monitoring/prometheus alert rules', () => {
  it('has every required alert, each with a `for`, a severity and a summary and description', () => {
    const names = alertRules.map((r) => r.alert);
    expect(names).toEqual(expect.arrayContaining([...REQUIRED_ALERTS, 'WharfMasterDown']));
    expect(new Set(names).size).toBe(names.length);
    for (const rule of alertRules) {
      expect(rule.for, `${rule.alert}: for`).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], `${rule.alert}: severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.length ?? 0, `${rule.alert}: summary`).toBeGreaterThan(10);
      // the description tells the operator where to look, not only what broke
      expect(rule.annotations?.description?.length ?? 0, `${rule.alert}: description`).toBeGreaterThan(120);
    }
  });

  it('has a promtool unit test where each alert fires and one where it stays quiet', () => {
    expect(ruleTests.rule_files).toEqual(['wharf-alerts.yml']);
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alertRules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${rule.alert} fires in a test`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${rule.alert} stays quiet in a test`).toBe(true);
    }
  });

  it.skipIf(promtoolMissing !== undefined)('pass `promtool check rules` and `promtool test rules`', () => {
    const check = runPromtool(['check', 'rules', 'wharf-alerts.yml']);
    expect(check.output).toContain(`SUCCESS: ${alertRules.length} rules found`);
    expect(check.status).toBe(0);
    const test = runPromtool(['test', 'rules', 'wharf-alerts.test.yml']);
    expect(test.output).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });

  it.skipIf(promtoolMissing !== undefined)('fail `promtool test rules` when a bound is loosened (the unit tests are not vacuous)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-alerts-mutant-'));
    try {
      const loosened = readFileSync(RULES_FILE, 'utf8')
        .replace('wharf_queue_oldest_wait_seconds > 600', 'wharf_queue_oldest_wait_seconds > 6000')
        .replace('< 0.10', '< 0.01');
      writeFileSync(join(dir, 'wharf-alerts.yml'), loosened);
      writeFileSync(join(dir, 'wharf-alerts.test.yml'), readFileSync(RULE_TESTS_FILE, 'utf8'));
      const test = runPromtool(['test', 'rules', 'wharf-alerts.test.yml'], dir);
      expect(test.status).not.toBe(0);
      expect(test.output).toContain('alertname: WharfQueueWaitHigh');
      expect(test.output).toContain('alertname: WharfMasterDiskAlmostFull');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(promtoolMissing !== undefined)('has an example prometheus.yml that passes `promtool check config` and loads the rules', () => {
    const check = runPromtool(['check', 'config', 'prometheus.yml']);
    expect(check.output).toContain('SUCCESS: 1 rule files found');
    expect(check.status).toBe(0);
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; metrics_path?: string }[] };
    // WharfMasterDown selects this job
    expect(config.scrape_configs).toContainEqual(expect.objectContaining({ job_name: 'wharf-master', metrics_path: '/metrics' }));
    expect(alertRules.find((r) => r.alert === 'WharfMasterDown')?.expr).toContain('job="wharf-master"');
  });
});

// ------------------------------------------------------------------ the Grafana board

describe('deploy/monitoring/grafana/wharf-dashboard.json', () => {
  it('takes its Prometheus from a `datasource` variable and hard-codes no datasource uid', () => {
    expect(dashboard.title).toBe('Wharf');
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(typeof dashboard.schemaVersion).toBe('number');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    // every datasource reference anywhere in the file is the variable (or Grafana's own annotations)
    const references: { path: string; value: unknown }[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${path}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [key, child] of Object.entries(node)) {
          if (key === 'datasource') references.push({ path: `${path}.${key}`, value: child });
          walk(child, `${path}.${key}`);
        }
      }
    };
    walk(dashboard, '$');
    expect(references.length).toBeGreaterThan(queryPanels.length);
    for (const { path, value } of references) {
      if (path.startsWith('$.annotations')) {
        expect(value, path).toEqual({ type: 'grafana', uid: '-- Grafana --' });
      } else {
        expect(value, path).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('has unique panel ids, a grid position for every panel and no overlapping panels', () => {
    const ids = allPanels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = allPanels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const box of boxes) {
      for (const key of ['x', 'y', 'w', 'h'] as const) expect(Number.isInteger(box[key]), `${box.title}: gridPos.${key}`).toBe(true);
      expect(box.x! >= 0 && box.w! >= 1 && box.x! + box.w! <= 24 && box.h! >= 1, `${box.title}: inside the 24-column grid`).toBe(true);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x! < b.x! + b.w! && b.x! < a.x! + a.w! && a.y! < b.y! + b.h! && b.y! < a.y! + a.h!;
        expect(overlap, `"${a.title}" and "${b.title}" overlap`).toBe(false);
      }
    }
  });

  it('gives every panel targets with unique refIds and a PromQL expression', () => {
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const panel of queryPanels) {
      expect(['stat', 'timeseries', 'gauge', 'bargauge', 'table'], `${panel.title}: type`).toContain(panel.type);
      expect(panel.title?.length ?? 0).toBeGreaterThan(0);
      const targets = panel.targets ?? [];
      expect(targets.length, `${panel.title}: targets`).toBeGreaterThan(0);
      const refIds = targets.map((t) => t.refId);
      expect(new Set(refIds).size, `${panel.title}: refIds`).toBe(refIds.length);
      for (const target of targets) expect(target.expr?.trim().length ?? 0, `${panel.title} ${target.refId}: expr`).toBeGreaterThan(0);
    }
  });

  it('shows cluster capacity against reservations, queue depth and wait, throughput, failures by outcome and per-worker usage', () => {
    const panelsReading = (metric: string, grouping?: string): string[] =>
      queryPanels
        .filter((p) =>
          (p.targets ?? []).some((t) => {
            const read = expressionNames(t.expr ?? '');
            return read.selectors.some((s) => s.metric === metric) && (grouping === undefined || read.groupingLabels.includes(grouping));
          }),
        )
        .map((p) => p.title ?? '');
    const capacity = panelsReading('wharf_worker_cpu_capacity_cores').filter((t) => panelsReading('wharf_worker_cpu_reserved_cores').includes(t));
    expect(capacity.length, 'a panel with CPU capacity and reservations').toBeGreaterThan(0);
    expect(panelsReading('wharf_worker_memory_capacity_bytes').filter((t) => panelsReading('wharf_worker_memory_reserved_bytes').includes(t)).length).toBeGreaterThan(0);
    expect(panelsReading('wharf_queue_depth').length, 'queue depth').toBeGreaterThan(0);
    expect(panelsReading('wharf_task_submit_to_assign_seconds_bucket').length, 'queue wait').toBeGreaterThan(0);
    expect(panelsReading('wharf_queue_oldest_wait_seconds').length, 'oldest wait').toBeGreaterThan(0);
    expect(panelsReading('wharf_tasks_finished_total', 'state').length, 'throughput by state').toBeGreaterThan(0);
    expect(panelsReading('wharf_task_attempts_finished_total', 'outcome').length, 'failures by outcome').toBeGreaterThan(0);
    expect(panelsReading('wharf_worker_usage_ratio', 'worker_name').length, 'usage per worker').toBeGreaterThanOrEqual(3);
  });

  it.skipIf(promtoolMissing !== undefined)('has only expressions that Prometheus parses (promtool, with the variables filled in)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-dashboard-promql-'));
    try {
      const rules = allExpressions()
        .filter((e) => !e.where.startsWith('alert '))
        .map((e, i) => ({ record: `wharf_dashboard:expression_${i}`, expr: withVariablesResolved(e.expr) }));
      writeFileSync(join(dir, 'dashboard-expressions.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const check = runPromtool(['check', 'rules', 'dashboard-expressions.yml'], dir);
      expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ against a real master

/** Added by Prometheus itself for every target, not by the master: allowed without appearing in /metrics. */
const PROMETHEUS_METRICS = new Set(['up']);
const TARGET_LABELS = new Set(['job', 'instance']);
/**
 * Label values that appear only after an event this test cannot cause on a healthy master: the
 * label is still checked, the value is not.
 */
const EVENT_ONLY_VALUES: Record<string, Record<string, string>> = {
  wharf_store_operation_seconds_count: { result: 'error' },
};

/** The expression reads a label value that only an event this test cannot cause brings. */
function readsEventOnlyValue(expr: string): boolean {
  return expressionNames(expr).selectors.some(({ metric, matchers }) =>
    matchers.some(({ label, op, value }) => op === '=' && EVENT_ONLY_VALUES[metric]?.[label] === value),
  );
}

/** What one expression reads that GET /metrics does not have (empty when all is there). */
function missingFrom(metrics: Map<string, ExposedMetric>, expr: string, legend?: string): string[] {
  const problems: string[] = [];
  const read = expressionNames(expr);
  const knownLabels = new Set<string>(TARGET_LABELS);
  for (const { metric, matchers } of read.selectors) {
    if (PROMETHEUS_METRICS.has(metric)) continue;
    const exposed = metrics.get(metric);
    if (!exposed) {
      problems.push(`metric ${metric} is not in /metrics`);
      continue;
    }
    for (const label of exposed.labels.keys()) knownLabels.add(label);
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.has(label)) continue;
      const values = exposed.labels.get(label);
      if (!values) {
        problems.push(`${metric} has no label ${label}`);
        continue;
      }
      // fixed values must exist: `=` exactly, `=~` an alternation of which at least one exists
      if (value.includes('$') || op === '!=' || op === '!~' || EVENT_ONLY_VALUES[metric]?.[label] === value) continue;
      if (op === '=' && !values.has(value)) problems.push(`${metric}{${label}="${value}"} is not in /metrics (has ${[...values].join(', ')})`);
      if (op === '=~' && /^[A-Za-z0-9_|]+$/.test(value) && !value.split('|').some((v) => values.has(v))) {
        problems.push(`${metric}{${label}=~"${value}"} matches nothing in /metrics (has ${[...values].join(', ')})`);
      }
    }
  }
  for (const label of read.groupingLabels) if (!knownLabels.has(label)) problems.push(`grouping label ${label} is on none of its metrics`);
  for (const [, label] of (legend ?? '').matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
    if (!knownLabels.has(label!)) problems.push(`legend label ${label} is on none of its metrics`);
  }
  return problems;
}

describe('the names the rules and the board use, against a real master', () => {
  let master: Awaited<ReturnType<typeof startTestMaster>>;
  let worker: WorkerHandle;

  beforeAll(async () => {
    master = await startTestMaster();
    worker = await startTestWorker(master, { name: 'monitoring' });
  });

  afterAll(async () => {
    await worker?.stop();
    if (worker) {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
      if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    }
    await master?.stop();
    await removeTempDirs();
  });

  it('finds every metric, label and fixed label value of every alert rule, panel and variable in GET /metrics', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'monitoring@example.com');
    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'echo monitored; echo err >&2; echo out > /output/o.txt',
      resources: { cpu: 0.1, memory: '32Mi' },
    });
    expect(submitted.status).toBe(201);
    await waitFor(
      'the task to succeed',
      async () => (await user.request<{ task: { status: string } }>('GET', `/api/tasks/${submitted.body.task.id}`)).body.task.status === 'succeeded',
      60_000,
    );
    // the worker's usage sample comes with a heartbeat
    const text = await waitFor('a usage sample of the worker in /metrics', async () => {
      const body = await (await fetch(`${master.httpUrl}/metrics`)).text();
      return body.includes('wharf_worker_usage_ratio{') ? body : undefined;
    });
    const metrics = exposedMetrics(text);

    const problems = allExpressions().flatMap(({ where, expr, legend }) => missingFrom(metrics, expr, legend).map((p) => `${where}: ${p}`));
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const { selector, label } = labelValuesQuery(variableQuery(variable));
      if (!TARGET_LABELS.has(label)) {
        const labels = expressionNames(selector).selectors.flatMap((s) => [...(metrics.get(s.metric)?.labels.keys() ?? [])]);
        if (!labels.includes(label)) problems.push(`variable $${variable.name}: label ${label} is not on ${selector}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('reports what a misnamed metric, label or value would look like (the check is not vacuous)', async () => {
    const metrics = exposedMetrics(await (await fetch(`${master.httpUrl}/metrics`)).text());
    expect(missingFrom(metrics, 'sum(rate(wharf_tasks_finish_total[5m]))')).toEqual(['metric wharf_tasks_finish_total is not in /metrics']);
    expect(missingFrom(metrics, 'wharf_workers{state="ready"}')).toEqual(['wharf_workers has no label state']);
    expect(missingFrom(metrics, 'wharf_workers{status="idle"}')[0]).toMatch(/^wharf_workers\{status="idle"\} is not in \/metrics/);
    expect(missingFrom(metrics, 'sum by (worker) (wharf_worker_usage_ratio)')).toEqual(['grouping label worker is on none of its metrics']);
    expect(missingFrom(metrics, 'sum by (state) (wharf_tasks)', '{{status}}')).toEqual(['legend label status is on none of its metrics']);
    expect(missingFrom(metrics, 'histogram_quantile(0.9, sum by (le) (rate(wharf_task_submit_to_assign_seconds_bucket[5m])))')).toEqual([]);
  });
});

// ------------------------------------------------------------------ a real Prometheus

interface PrometheusAnswer<T> {
  status: string;
  data: T;
  error?: string;
}
interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}
interface PrometheusRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  state?: string;
}

describe.skipIf(prometheusMissing !== undefined)('the rules and the board on a real Prometheus scraping a real master', () => {
  let master: Awaited<ReturnType<typeof startTestMaster>>;
  let worker: WorkerHandle | undefined;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let prometheusUrl = '';
  let instance = '';

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${prometheusUrl}${path}`);
    const answer = (await response.json()) as PrometheusAnswer<T>;
    if (answer.status !== 'success') throw new Error(`${path}: ${answer.error ?? response.status}`);
    return answer.data;
  }
  const query = (expr: string) => api<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
  const alerts = async () => (await api<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts;
  const rules = async () => (await api<{ groups: { rules: PrometheusRule[] }[] }>('/api/v1/rules')).groups.flatMap((g) => g.rules);

  beforeAll(async () => {
    master = await startTestMaster();
    worker = await startTestWorker(master, { name: 'scraped' });
    instance = `127.0.0.1:${master.httpPort}`;
    // the example config, scraping this master every second, evaluating every second, no Alertmanager
    const example = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      alerting?: unknown;
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const dir = tempDir('prometheus');
    const config = {
      ...example,
      global: { ...example.global, scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: example.rule_files.map((file) => join(PROMETHEUS_DIR, file)),
      alerting: undefined,
      scrape_configs: example.scrape_configs.map((job) => ({ ...job, static_configs: [{ targets: [instance] }] })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    server = spawn(
      (prometheus as { path: string }).path,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout?.on('data', (d: Buffer) => (serverOutput += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (serverOutput += d.toString()));
    await waitFor('Prometheus to scrape the master', async () => {
      if (server?.exitCode !== null) throw new Error(`prometheus exited: ${serverOutput}`);
      const targets = await api<{ activeTargets: { health: string; labels: Record<string, string> }[] }>('/api/v1/targets');
      return targets.activeTargets.some((t) => t.health === 'up' && t.labels.job === 'wharf-master' && t.labels.instance === instance);
    });
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await worker?.stop();
    if (worker) {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
      if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    }
    await master?.stop();
    await removeTempDirs();
  });

  it('answers every board query and variable with data, and raises no alert on a healthy cluster', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'scraped@example.com');
    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'echo scraped', resources: { cpu: 0.1, memory: '32Mi' } });
    expect(submitted.status).toBe(201);
    await waitFor('the task to succeed', async () => (await user.request<{ task: { status: string } }>('GET', `/api/tasks/${submitted.body.task.id}`)).body.task.status === 'succeeded', 60_000);

    const board = queryPanels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ where: `panel "${panel.title}" target ${t.refId}`, expr: t.expr ?? '' })));
    let empty: string[] = [];
    const deadline = Date.now() + 30_000;
    do {
      empty = [];
      for (const { where, expr } of board) {
        if (readsEventOnlyValue(expr)) continue;
        const answer = await query(withVariablesResolved(expr, { instance, rateInterval: '10s' }));
        if (answer.result.length === 0) empty.push(where);
      }
      if (empty.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    } while (empty.length > 0 && Date.now() < deadline);
    expect(empty).toEqual([]);

    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const { selector, label } = labelValuesQuery(variableQuery(variable));
      const values = await api<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(withVariablesResolved(selector, { instance, rateInterval: '10s' }))}`);
      expect(values, `variable $${variable.name}`).toEqual(variable.name === 'instance' ? [instance] : ['scraped']);
    }

    // every rule evaluates without error; none is pending or firing
    const loaded = await waitFor('every alert rule to be evaluated', async () => {
      const list = await rules();
      return list.length === alertRules.length && list.every((r) => r.health === 'ok') ? list : undefined;
    });
    expect(loaded.map((r) => r.name).sort()).toEqual(alertRules.map((r) => r.alert).sort());
    // (a machine whose disk really is almost full gets that alert, rightly)
    const disk = await statfs(master.dataDir);
    const expected = disk.bavail / disk.blocks < 0.1 ? ['WharfMasterDiskAlmostFull'] : [];
    expect((await alerts()).map((a) => a.labels.alertname)).toEqual(expected);
  });

  it('raises WharfNoReadyWorkers and WharfWorkerLost when the only worker goes silent', async () => {
    await worker!.stop();
    const raised = await waitFor('both alerts to be raised', async () => {
      const list = await alerts();
      const names = list.map((a) => a.labels.alertname);
      return names.includes('WharfNoReadyWorkers') && names.includes('WharfWorkerLost') ? list : undefined;
    });
    for (const alertname of ['WharfNoReadyWorkers', 'WharfWorkerLost']) {
      const alert = raised.find((a) => a.labels.alertname === alertname)!;
      // pending: both wait out their `for` before they fire
      expect(alert.state).toBe('pending');
      expect(alert.labels).toMatchObject({ job: 'wharf-master', instance });
      expect(alert.labels.severity).toBe(alertRules.find((r) => r.alert === alertname)?.labels?.severity);
      expect(alert.annotations.summary).toContain(instance);
    }
    expect(raised.find((a) => a.labels.alertname === 'WharfWorkerLost')?.annotations.summary).toBe(`Wharf lost 1 worker(s) in the last 15 minutes on ${instance}`);
  });
});
