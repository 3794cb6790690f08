// One DAG run: its status, the task graph with live status (GET /api/dags/:id again, debounced,
// whenever /ws/events reports a change of one of its tasks), Cancel while it runs, why tasks
// did not succeed, and the metrics of its DAG name.
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { formatTime } from '../api/format.ts';
import { TERMINAL_DAG_TASK_STATUSES, type DagDetails, type DagSummary } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { DagGraph } from '../components/dag-graph.tsx';
import { DagMetricsPanel } from '../components/dag-metrics.tsx';
import { useConfirm } from '../components/confirm-dialog.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useDagEvents } from '../live/use-dag-events.ts';
import { runTime, tasksDone } from './dags-page.tsx';

/** After every task ended the engine still has to close the run: look again this long after. */
const SETTLE_RECHECK_MS = 1000;

export function DagPage() {
  const { id = '' } = useParams();
  const { api } = useAuth();
  const run = useResource<DagDetails>((signal) => api.get<{ dag: DagDetails }>(`/api/dags/${encodeURIComponent(id)}`, signal).then((a) => a.dag), [api, id]);
  const [busy, setBusy] = useState(false);
  const [confirmDialog, confirm] = useConfirm();
  const [actionError, setActionError] = useState<string | null>(null);
  const live = useDagEvents((dagId) => dagId === id, run.reload);

  // the run's own status changes after its last task's (no event of its own): check once more
  const dag = run.data;
  const settling = dag?.status === 'running' && dag.tasks.every((t) => TERMINAL_DAG_TASK_STATUSES.has(t.status));
  const { reload } = run;
  useEffect(() => {
    if (!settling) return;
    const timer = setTimeout(reload, SETTLE_RECHECK_MS);
    return () => clearTimeout(timer);
  }, [settling, dag, reload]);

  if (!dag) {
    return (
      <section className="page">
        <p className="crumbs">
          <Link to="/dags">DAGs</Link> /
        </p>
        {run.error ? (
          run.error instanceof ApiError && run.error.status === 404 ? (
            <Empty>No DAG run with id {id} (or it belongs to someone else).</Empty>
          ) : (
            <ErrorBox error={run.error} retry={run.reload} />
          )
        ) : (
          <Loading what="Loading the run" />
        )}
      </section>
    );
  }

  const cancel = async () => {
    const yes = await confirm({ title: `Cancel the run ${dag.name}?`, message: 'Its running tasks are cancelled and no further task of it starts.', confirmLabel: 'Cancel run', cancelLabel: 'Keep running', danger: true });
    if (!yes) return;
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.delete<{ dag: DagSummary }>(`/api/dags/${encodeURIComponent(dag.id)}`);
      run.set((current) => (current ? { ...current, status: answer.dag.status, cancelRequested: answer.dag.cancelRequested } : current));
      run.reload();
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const troubled = dag.tasks.filter((t) => t.reason && t.status !== 'succeeded');

  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/dags">DAGs</Link> / {dag.name}
      </p>
      <div className="page-head">
        <h1>
          {dag.name} <StatusBadge status={dag.status} />
        </h1>
        <LiveIndicator {...live} />
        <div className="actions">
          {dag.status === 'running' ? (
            <button type="button" className="btn btn-danger" disabled={busy || dag.cancelRequested} onClick={() => void cancel()}>
              {dag.cancelRequested ? 'Cancelling…' : 'Cancel run'}
            </button>
          ) : null}
          <Link to="/dags/new" className="btn">
            New run
          </Link>
        </div>
      </div>
      {confirmDialog}
      {actionError ? <ErrorBox error={actionError} /> : null}

      <div className="card">
        <dl className="dag-facts">
          <div>
            <dt>Run</dt>
            <dd className="mono">{dag.id}</dd>
          </div>
          <div>
            <dt>Tasks done</dt>
            <dd data-testid="dag-tasks-done">{tasksDone(dag)}</dd>
          </div>
          <div>
            <dt>Cache</dt>
            <dd>{dag.useCache ? 'on' : 'off (every input downloaded)'}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{formatTime(dag.createdAt)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{runTime(dag)}</dd>
          </div>
        </dl>
      </div>

      <div className="card">
        <h2 className="card-title">Task graph</h2>
        <DagGraph tasks={dag.tasks} />
        <p className="muted small dag-legend">
          Arrows point from a task to the tasks that wait for it. Each input says <span className="cache cache-hit">hit</span> (served from the worker’s
          cache) or <span className="cache cache-miss">miss</span> (downloaded) once its task has started.
        </p>
      </div>

      {troubled.length ? (
        <div className="card">
          <h2 className="card-title">Why tasks did not succeed</h2>
          <ul className="dag-reasons">
            {troubled.map((t) => (
              <li key={t.name} data-task={t.name}>
                <strong>{t.name}</strong> <StatusBadge status={t.status} /> <span className="small">{t.reason}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <DagMetricsPanel name={dag.name} refreshKey={dag.status} currentId={dag.id} />
    </section>
  );
}
