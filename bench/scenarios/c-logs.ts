// Scenario c: the log path. A container prints numbered lines with a marker line after every
// K of them ("T <uptime>", read from /proc/uptime: the host's CLOCK_BOOTTIME, 10 ms resolution,
// which busybox can read without `date +%N`). A follower of GET /api/tasks/:id/logs?follow=true
// checks order and completeness and measures marker latency; the baseline is the same script
// under `docker run` with its stdout piped straight to us.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TEST_IMAGE, startDockerProcessCluster } from '../support/docker-cluster.js';
import { percentile, round, type MetricRow, type ScenarioResult } from '../support/types.js';

export interface LogOptions {
  lines: number;
}

function uptimeMs(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
}

interface FollowStats {
  numbered: number;
  lost: number;
  reordered: number;
  firstAt: number;
  lastAt: number;
  latencies: number[];
}

/** Consumes a stream of text lines; numbered lines must be 1..n in order. */
class LineChecker {
  private expected = 1;
  private partial = '';
  readonly stats: FollowStats = { numbered: 0, lost: 0, reordered: 0, firstAt: 0, lastAt: 0, latencies: [] };

  push(text: string): void {
    const now = performance.now();
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    let nowUptime: number | undefined;
    for (const line of parts) {
      if (line.startsWith('T ')) {
        nowUptime ??= uptimeMs();
        this.stats.latencies.push(nowUptime - Number(line.slice(2)) * 1000);
        continue;
      }
      if (!/^\d+$/.test(line)) continue;
      const n = Number(line);
      if (this.stats.numbered === 0) this.stats.firstAt = now;
      this.stats.lastAt = now;
      this.stats.numbered += 1;
      if (n === this.expected) this.expected += 1;
      else if (n > this.expected) {
        this.stats.lost += n - this.expected;
        this.expected = n + 1;
      } else this.stats.reordered += 1;
    }
  }

  finish(total: number): FollowStats {
    if (this.expected <= total) this.stats.lost += total - this.expected + 1;
    return this.stats;
  }
}

function script(lines: number, every: number): string {
  return `n=${lines}; k=${every}; i=1; while [ $i -le $n ]; do e=$((i+k-1)); [ $e -gt $n ] && e=$n; seq $i $e; read u rest < /proc/uptime; echo "T $u"; i=$((e+1)); done`;
}

/** Runs `docker <args>` and checks the lines it prints on stdout (bounded: killed after 120 s). */
async function checkDockerOutput(args: string[], lines: number): Promise<FollowStats> {
  const checker = new LineChecker();
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => checker.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  return checker.finish(lines);
}

/** The same script under `docker run`, its stdout piped straight to us. */
function baseline(lines: number, every: number): Promise<FollowStats> {
  return checkDockerOutput(['run', '--rm', '--cpus=1', '--memory=256m', TEST_IMAGE, 'sh', '-c', script(lines, every)], lines);
}

/**
 * The Docker engine's own log API, which Wharf must read (it is durable and resumable after a
 * worker restart, unlike an attach stream): `docker logs -f` of the same script, from start.
 */
async function engineLogsBaseline(lines: number, every: number): Promise<FollowStats> {
  const id = execFileSync('docker', ['create', '--cpus=1', '--memory=256m', TEST_IMAGE, 'sh', '-c', script(lines, every)]).toString().trim();
  try {
    execFileSync('docker', ['start', id], { stdio: 'ignore' });
    return await checkDockerOutput(['logs', '-f', id], lines);
  } finally {
    execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
  }
}

const rate = (s: FollowStats): number => s.numbered / Math.max(0.001, (s.lastAt - s.firstAt) / 1000);

export async function runLogScenario(options: LogOptions): Promise<ScenarioResult> {
  const every = Math.max(100, Math.floor(options.lines / 200));
  const base = await baseline(options.lines, every);
  const engine = await engineLogsBaseline(options.lines, every);
  const cluster = await startDockerProcessCluster();
  try {
    const response = await cluster.user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: ['sh', '-c', script(options.lines, every)],
      name: 'log-bench',
      resources: { cpu: 1, memory: '256Mi' },
    });
    if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${response.text}`);
    const id = response.body.task.id;
    const checker = new LineChecker();
    const follow = await fetch(`${cluster.user.baseUrl}/api/tasks/${id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${cluster.user.token ?? ''}` },
      signal: AbortSignal.timeout(180_000),
    });
    if (!follow.ok || !follow.body) throw new Error(`follow failed: ${follow.status}`);
    const decoder = new TextDecoder();
    for await (const chunk of follow.body) checker.push(decoder.decode(chunk as Uint8Array, { stream: true }));
    checker.push('\n');
    const stats = checker.finish(options.lines);
    const status = await cluster.waitForTerminal(id, 30_000);

    const wharfRate = rate(stats);
    const baseRate = rate(base);
    const p99 = percentile(stats.latencies, 0.99);
    const baseP99 = percentile(base.latencies, 0.99);
    const rows: MetricRow[] = [
      {
        scenario: 'c',
        metric: 'lines/s delivered',
        value: round(wharfRate, 0),
        unit: 'lines/s',
        baseline: round(baseRate, 0),
        baselineLabel: 'docker run stdout pipe',
        ratio: round(wharfRate / baseRate),
        target: '>= 100000/s',
        met: wharfRate >= 100_000,
      },
      {
        scenario: 'c',
        metric: 'lines/s vs the engine log API',
        value: round(wharfRate, 0),
        unit: 'lines/s',
        baseline: round(rate(engine), 0),
        baselineLabel: 'docker logs -f (same script)',
        ratio: round(wharfRate / rate(engine)),
        target: '',
        met: null,
      },
      {
        scenario: 'c',
        metric: 'line latency p99 (markers)',
        value: round(p99, 0),
        unit: 'ms',
        baseline: round(baseP99, 0),
        baselineLabel: 'docker run stdout pipe',
        ratio: baseP99 > 0 ? round(p99 / baseP99) : null,
        target: '<= 100 ms',
        met: p99 <= 100,
      },
      {
        scenario: 'c',
        metric: 'engine log API latency p99',
        value: round(percentile(engine.latencies, 0.99), 0),
        unit: 'ms',
        baseline: null,
        baselineLabel: 'docker logs -f (same script)',
        ratio: null,
        target: '',
        met: null,
      },
      {
        scenario: 'c',
        metric: 'lines lost + reordered',
        value: stats.lost + stats.reordered,
        unit: 'lines',
        baseline: base.lost + base.reordered,
        baselineLabel: 'docker run stdout pipe',
        ratio: null,
        target: '0',
        met: stats.lost + stats.reordered === 0,
      },
    ];
    return {
      scenario: 'c',
      title: `log path (${options.lines} lines, a marker every ${every})`,
      rows,
      checks: { lines: options.lines, received: stats.numbered, lost: stats.lost, reordered: stats.reordered, markers: stats.latencies.length, status },
      notes: ['latency: /proc/uptime written by the container vs read by the follower (10 ms resolution); rate: first to last numbered line received'],
    };
  } finally {
    await cluster.stop();
  }
}
