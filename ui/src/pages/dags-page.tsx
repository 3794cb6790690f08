// DAG runs, newest first (GET /api/dags), with each run's cache result from its DAG's metrics
// (GET /api/dags/:name/metrics: the list itself does not carry it), filtered by DAG name with
// that name's metrics panel above the table. Rows refresh when a task of a run changes.
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { between, formatDuration, formatTime } from '../api/format.ts';
import type { CacheHit, DagRunMetrics, DagSummary } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { CacheHitBadge, DagMetricsPanel } from '../components/dag-metrics.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useDagEvents } from '../live/use-dag-events.ts';

export const DAG_LIST_LIMIT = 50;

interface RunList {
  dags: DagSummary[];
  /** dagId → cache result; absent while the run's metrics could not be read */
  cache: Record<string, CacheHit>;
}

export const tasksDone = (dag: { tasks: readonly { status: string }[] }) => `${dag.tasks.filter((t) => t.status === 'succeeded').length}/${dag.tasks.length}`;

export function runTime(dag: Pick<DagSummary, 'createdAt' | 'finishedAt'>, now = Date.now()): string {
  const ms = between(dag.createdAt, dag.finishedAt, now);
  return ms === undefined ? '–' : dag.finishedAt ? formatDuration(ms) : `${formatDuration(ms)} so far`;
}

export function DagsPage() {
  const { api } = useAuth();
  const [params, setParams] = useSearchParams();
  const name = params.get('name') ?? '';
  const [names, setNames] = useState<string[]>([]);

  const list = useResource<RunList>(
    async (signal) => {
      const search = new URLSearchParams({ limit: String(DAG_LIST_LIMIT) });
      if (name) search.set('name', name);
      const { dags } = await api.get<{ dags: DagSummary[] }>(`/api/dags?${search.toString()}`, signal);
      setNames((known) => [...new Set([...known, ...dags.map((d) => d.name)])].sort());
      // the newest DAG_LIST_LIMIT runs of a name include every run of it in this list
      const cache: Record<string, CacheHit> = {};
      await Promise.all(
        [...new Set(dags.map((d) => d.name))].map((dagName) =>
          api
            .get<{ runs: DagRunMetrics[] }>(`/api/dags/${encodeURIComponent(dagName)}/metrics?limit=${DAG_LIST_LIMIT}`, signal)
            .then(({ runs }) => runs.forEach((run) => (cache[run.dagId] = run.cacheHit)))
            .catch(() => undefined),
        ),
      );
      return { dags, cache };
    },
    [api, name],
  );
  const live = useDagEvents(() => true, list.reload);
  const newestStatus = list.data?.dags.map((d) => d.status).join(',') ?? '';

  return (
    <section className="page">
      <div className="page-head">
        <h1>DAG runs</h1>
        <LiveIndicator {...live} />
        <div className="actions">
          <Link to="/dags/new" className="btn btn-primary">
            New run
          </Link>
        </div>
      </div>
      <div className="filters">
        <div className="field field-inline">
          <label htmlFor="dag-name">DAG</label>
          <select
            id="dag-name"
            value={name}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value) next.set('name', e.target.value);
              else next.delete('name');
              setParams(next, { replace: true });
            }}
          >
            <option value="">All DAGs</option>
            {[...new Set([...names, ...(name ? [name] : [])])].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        {!name ? <p className="muted small filters-hint">Pick a DAG to compare its cached and uncached runs.</p> : null}
      </div>

      {name ? <DagMetricsPanel name={name} refreshKey={newestStatus} /> : null}

      {list.loading && !list.data ? (
        <Loading what="Loading DAG runs" />
      ) : list.error ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data || list.data.dags.length === 0 ? (
        <Empty>
          {name ? `No runs of ${name}.` : 'No DAG runs yet.'} <Link to="/dags/new">Start one from the editor</Link>.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table dags-table">
            <caption className="sr-only">DAG runs, newest first</caption>
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>
                  <span className="hide-sm">Tasks done</span>
                  <span className="show-sm">Done</span>
                </th>
                <th>Cache</th>
                <th>Duration</th>
                <th className="hide-sm">Started</th>
              </tr>
            </thead>
            <tbody>
              {list.data.dags.map((dag) => {
                const cache = list.data?.cache[dag.id];
                return (
                  <tr key={dag.id} data-dag={dag.id} data-status={dag.status}>
                    <td>
                      <Link to={`/dags/${encodeURIComponent(dag.id)}`} className="strong">
                        {dag.name}
                      </Link>
                      <div className="muted small mono ellipsis hide-sm">{dag.id}</div>
                    </td>
                    <td>
                      <StatusBadge status={dag.status} />
                    </td>
                    <td className="nowrap" data-testid="tasks-done">
                      {tasksDone(dag)}
                    </td>
                    <td data-cache-hit={cache ?? ''}>
                      {cache ? <CacheHitBadge value={cache} /> : <span className="muted">–</span>}
                      {!dag.useCache ? <div className="muted small">cache off</div> : null}
                    </td>
                    <td className="nowrap small">{runTime(dag)}</td>
                    <td className="hide-sm nowrap small" title={dag.createdAt}>
                      {formatTime(dag.createdAt)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
