// Cached against uncached runs of one DAG name (GET /api/dags/:name/metrics): counts, average
// duration side by side (recharts), the newest run's summary, then the table of runs.
import { useEffect, useRef } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Link } from 'react-router-dom';
import { formatBytes, formatDuration, formatTime } from '../api/format.ts';
import type { DagRunMetrics } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Empty, ErrorBox, Loading } from './states.tsx';
import { StatusBadge } from './status-badge.tsx';
import { useChartColors } from './theme.ts';

export const isCached = (run: DagRunMetrics) => run.cacheHit === 'Hit' || run.cacheHit === 'Partial';

export interface MetricsSummary {
  runs: number;
  cached: { runs: number; finished: number; averageMs: number | null };
  uncached: { runs: number; finished: number; averageMs: number | null };
}

/** Counts and average durations of cached (Hit/Partial) and uncached (Miss/N/A) runs; runs still going count but have no duration. */
export function summarise(runs: readonly DagRunMetrics[]): MetricsSummary {
  const group = (list: DagRunMetrics[]) => {
    const durations = list.map((r) => r.durationMs).filter((d): d is number => typeof d === 'number');
    return { runs: list.length, finished: durations.length, averageMs: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null };
  };
  return { runs: runs.length, cached: group(runs.filter(isCached)), uncached: group(runs.filter((r) => !isCached(r))) };
}

export const runDuration = (ms: number | null) => (ms === null ? 'running' : formatDuration(ms));

export function CacheHitBadge({ value }: { value: string }) {
  return <span className={`cachehit cachehit-${value.replace('/', '').toLowerCase()}`}>{value}</span>;
}

export function DagMetricsPanel({ name, limit = 20, refreshKey = '', currentId }: { name: string; limit?: number; refreshKey?: string; currentId?: string }) {
  const { api } = useAuth();
  const colors = useChartColors();
  const metrics = useResource<DagRunMetrics[]>(
    (signal) => api.get<{ runs: DagRunMetrics[] }>(`/api/dags/${encodeURIComponent(name)}/metrics?limit=${limit}`, signal).then((a) => a.runs),
    [api, name, limit],
  );
  // a run of this name changed (the run page passes its status): fetch again, keeping what is on screen
  const firstKey = useRef(refreshKey);
  const { reload } = metrics;
  useEffect(() => {
    if (firstKey.current === refreshKey) return;
    firstKey.current = refreshKey;
    reload();
  }, [refreshKey, reload]);
  const runs = metrics.data;
  const body = () => {
    if (!runs) return metrics.error ? <ErrorBox error={metrics.error} retry={metrics.reload} /> : <Loading what="Loading the metrics" />;
    if (runs.length === 0) return <Empty>No runs of {name} yet.</Empty>;
    const summary = summarise(runs);
    const last = runs[0]!;
    const chart = [
      { group: 'Cached', ms: summary.cached.averageMs ?? 0, runs: summary.cached.finished, fill: colors.disk },
      { group: 'Uncached', ms: summary.uncached.averageMs ?? 0, runs: summary.uncached.finished, fill: colors.memory },
    ];
    return (
      <>
        <div className="dag-metrics-top">
          <dl className="stats dag-stats" data-testid="dag-metrics-counts">
            <div className="stat stat-accent">
              <dt className="stat-label">Runs</dt>
              <dd className="stat-value" data-testid="dag-runs-count">{summary.runs}</dd>
            </div>
            <div className="stat stat-ok">
              <dt className="stat-label">Cached (Hit/Partial)</dt>
              <dd className="stat-value">{summary.cached.runs}</dd>
              <dd className="stat-label" data-testid="dag-avg-cached">avg {summary.cached.averageMs === null ? '–' : formatDuration(summary.cached.averageMs)}</dd>
            </div>
            <div className="stat stat-warn">
              <dt className="stat-label">Uncached (Miss/N/A)</dt>
              <dd className="stat-value">{summary.uncached.runs}</dd>
              <dd className="stat-label" data-testid="dag-avg-uncached">avg {summary.uncached.averageMs === null ? '–' : formatDuration(summary.uncached.averageMs)}</dd>
            </div>
          </dl>
          <figure className="chart dag-chart" aria-label="Average duration of cached and uncached runs" data-cached-ms={summary.cached.averageMs ?? ''} data-uncached-ms={summary.uncached.averageMs ?? ''}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={chart} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid stroke={colors.grid} strokeDasharray="3 3" horizontal={false} />
                <XAxis type="number" stroke={colors.text} fontSize={11} tickFormatter={(v: number) => formatDuration(v)} />
                <YAxis type="category" dataKey="group" stroke={colors.text} fontSize={11} width={72} />
                <Tooltip
                  formatter={(value, _name, item) => {
                    const runsCounted = (item.payload as { runs: number }).runs;
                    return [runsCounted ? formatDuration(Number(value)) : 'no finished run', `average of ${runsCounted} run${runsCounted === 1 ? '' : 's'}`];
                  }}
                  contentStyle={{ background: colors.surface, borderColor: colors.grid, fontSize: 12 }}
                  cursor={{ fill: colors.grid, opacity: 0.3 }}
                />
                <Bar dataKey="ms" isAnimationActive={false} barSize={22}>
                  {chart.map((entry) => (
                    <Cell key={entry.group} fill={entry.fill} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
            <figcaption className="muted small">Average duration of finished runs</figcaption>
          </figure>
        </div>
        <div className="dag-last" data-testid="dag-last-run">
          <span className="muted small">Last run</span>
          <Link to={`/dags/${encodeURIComponent(last.dagId)}`} className="mono small">
            {last.dagId.slice(0, 8)}
          </Link>
          <StatusBadge status={last.status} />
          <span>{runDuration(last.durationMs)}</span>
          <span>
            cache <CacheHitBadge value={last.cacheHit} />
          </span>
          <span>{formatBytes(last.bytesFromCache)} from cache</span>
          <span>{formatBytes(last.bytesDownloaded)} downloaded</span>
        </div>
        <div className="table-wrap">
          <table className="table dag-runs-table">
            <caption className="sr-only">Runs of {name}, newest first</caption>
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Duration</th>
                <th>Cache</th>
                <th className="hide-sm">Tasks</th>
                <th className="hide-sm">From cache</th>
                <th className="hide-sm">Downloaded</th>
                <th className="hide-sm">Nodes</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.dagId} data-run={run.dagId} data-cache-hit={run.cacheHit} className={run.dagId === currentId ? 'row-current' : undefined}>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(run.dagId)}`} className="mono small">
                      {run.dagId.slice(0, 8)}
                    </Link>
                    <div className="muted small nowrap hide-sm">{formatTime(run.startTime)}</div>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td className="nowrap">{runDuration(run.durationMs)}</td>
                  <td>
                    <CacheHitBadge value={run.cacheHit} />
                    {!run.cacheEnabled ? <div className="muted small">cache off</div> : null}
                  </td>
                  <td className="hide-sm nowrap">
                    {run.taskSucceeded}/{run.taskCount}
                    {run.taskFailed ? <span className="muted small"> · {run.taskFailed} failed</span> : null}
                    {run.taskUpstreamFailed ? <span className="muted small"> · {run.taskUpstreamFailed} upstream</span> : null}
                  </td>
                  <td className="hide-sm nowrap">{formatBytes(run.bytesFromCache)}</td>
                  <td className="hide-sm nowrap">{formatBytes(run.bytesDownloaded)}</td>
                  <td className="hide-sm small mono">{run.nodes.map((n) => n.slice(0, 8)).join(', ') || '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    );
  };
  return (
    <div className="card dag-metrics" data-dag={name}>
      <h2 className="card-title">
        Metrics of {name} <span className="muted small">· last {limit} runs</span>
      </h2>
      {body()}
    </div>
  );
}
