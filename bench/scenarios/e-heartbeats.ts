// Scenario e: heartbeat scale. W simulated workers heartbeat at the master's interval for a
// while; we read the master process's CPU from /proc, the heartbeat handling histogram from
// GET /api/cluster/stats, and count workers wrongly marked lost.
import { startMasterProcess } from '../support/master-process.js';
import { SimCluster } from '../support/sim-workers.js';
import { round, sleep, type MetricRow, type ScenarioResult, infoRow } from '../support/types.js';

export interface HeartbeatOptions {
  workers: number;
  durationMs: number;
  /** the master's WHARF_HEARTBEAT_INTERVAL, e.g. "5s" or "500ms" */
  interval: string;
  /** WHARF_HEARTBEAT_TTL; default 3 × interval */
  ttl?: string;
}

interface ClusterStats {
  heartbeats: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  workers: { total: number; ready: number; draining: number; lost: number };
}

function toMs(duration: string): number {
  const match = /^(\d+)(ms|s)$/.exec(duration);
  if (!match) throw new Error(`bad duration ${duration}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

export async function runHeartbeatScenario(options: HeartbeatOptions): Promise<ScenarioResult> {
  const intervalMs = toMs(options.interval);
  const master = await startMasterProcess({
    WHARF_HEARTBEAT_INTERVAL: options.interval,
    WHARF_HEARTBEAT_TTL: options.ttl ?? `${intervalMs * 3}ms`,
  });
  const cluster = new SimCluster({ grpcAddress: master.grpcAddress, joinToken: master.joinToken, caHash: master.caHash, workers: options.workers, runTasks: false });
  try {
    const registerStart = Date.now();
    await cluster.start();
    const registerMs = Date.now() - registerStart;
    // let the first staggered beats arrive, then measure a steady window
    await sleep(Math.min(intervalMs, 5000));
    const stats0 = (await master.admin.request<ClusterStats>('GET', '/api/cluster/stats')).body;
    const cpu0 = master.cpuSeconds();
    const t0 = Date.now();
    const beats0 = cluster.heartbeatsSent;
    await sleep(options.durationMs);
    const cpu1 = master.cpuSeconds();
    const elapsed = (Date.now() - t0) / 1000;
    const beats = cluster.heartbeatsSent - beats0;
    const response = await master.admin.request<ClusterStats>('GET', '/api/cluster/stats');
    if (response.status !== 200) throw new Error(`GET /api/cluster/stats: ${response.status} ${response.text}`);
    const stats = response.body;
    const cpuPercent = ((cpu1 - cpu0) / elapsed) * 100;
    const rows: MetricRow[] = [
      {
        scenario: 'e',
        metric: 'master CPU (steady)',
        value: round(cpuPercent, 1),
        unit: '% of 1 core',
        baseline: null,
        baselineLabel: '',
        ratio: null,
        target: '<= 25%',
        met: cpuPercent <= 25,
      },
      infoRow('e', 'heartbeat handling p99', round(stats.heartbeats.p99Ms, 3), 'ms'),
      {
        scenario: 'e',
        metric: 'workers wrongly lost',
        value: stats.workers.lost,
        unit: 'workers',
        baseline: null,
        baselineLabel: '',
        ratio: null,
        target: '0',
        met: stats.workers.lost === 0,
      },
      {
        scenario: 'e',
        metric: 'heartbeats handled/s',
        value: round((stats.heartbeats.count - stats0.heartbeats.count) / elapsed, 0),
        unit: '/s',
        baseline: round(options.workers / (intervalMs / 1000), 0),
        baselineLabel: 'workers / interval (expected)',
        ratio: round((stats.heartbeats.count - stats0.heartbeats.count) / elapsed / (options.workers / (intervalMs / 1000))),
        target: '',
        met: null,
      },
    ];
    return {
      scenario: 'e',
      title: `heartbeat scale (${options.workers} sim workers, every ${options.interval}, ${Math.round(options.durationMs / 1000)} s)`,
      rows,
      checks: {
        workers: options.workers,
        ready: stats.workers.ready,
        lost: stats.workers.lost,
        streamsLost: cluster.streamsLost,
        heartbeatsSent: beats,
        heartbeatsHandled: stats.heartbeats.count,
      },
      notes: [
        `registering ${options.workers} workers took ${registerMs} ms; heartbeat p50 ${round(stats.heartbeats.p50Ms, 3)} ms, max ${round(stats.heartbeats.maxMs, 3)} ms (handler time inside the master, bucketed)`,
      ],
    };
  } finally {
    await cluster.stop();
    await master.stop();
  }
}
