// One DAG run: its status, the task graph with live status (GET /api/dags/:id again, debounced,
// whenever /ws/events reports a change of one of its tasks), Cancel while it runs, Retry failed
// tasks (a new run reusing what succeeded) and Re-run once it ended, the log of the task
// selected in the graph (?task=<name>), why tasks did not succeed, and the metrics of its name.
import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { formatTime } from '../api/format.ts';
import { TERMINAL_DAG_TASK_STATUSES, type DagDetails, type DagSummary, type DagWarning } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { DagGraph } from '../components/dag-graph.tsx';
import { DagMetricsPanel } from '../components/dag-metrics.tsx';
import { useConfirm } from '../components/confirm-dialog.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TaskLogs } from '../components/task-logs.tsx';
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
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const selected = params.get('task');
  // set by the editor after a submission: fields of another engine's file that were ignored
  const warnings = ((useLocation().state as { warnings?: DagWarning[] } | null)?.warnings ?? []).filter((w) => typeof w?.path === 'string');
  const select = (name: string) => setParams(name === selected ? {} : { task: name }, { replace: true });
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

  /** retry or rerun: a new run; go to it */
  const again = async (kind: 'retry' | 'rerun') => {
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.post<{ dag: DagSummary }>(`/api/dags/${encodeURIComponent(dag.id)}/${kind}`);
      navigate(`/dags/${encodeURIComponent(answer.dag.id)}`);
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const selectedTask = dag.tasks.find((t) => t.name === selected && t.taskId);
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
          {dag.status === 'failed' || dag.status === 'cancelled' ? (
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy}
              onClick={() => void again('retry')}
              title="A new run that reuses the tasks that succeeded and runs the others again"
            >
              Retry failed tasks
            </button>
          ) : null}
          {dag.status !== 'running' ? (
            <button type="button" className="btn" disabled={busy} onClick={() => void again('rerun')} title="Run the same file again as a new run">
              Re-run
            </button>
          ) : null}
          <Link to="/dags/new" className="btn">
            New run
          </Link>
        </div>
      </div>
      {confirmDialog}
      {actionError ? <ErrorBox error={actionError} /> : null}
      {warnings.length ? (
        <div className="card dag-warnings" role="status" data-testid="dag-warnings">
          <p className="small">The file was accepted; these fields were ignored:</p>
          <ul className="small">
            {warnings.map((w) => (
              <li key={w.path}>
                <span className="mono">{w.path}</span>: {w.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <div className="card">
        <dl className="dag-facts">
          <div>
            <dt>Run</dt>
            <dd className="mono">{dag.id}</dd>
          </div>
          {dag.origin ? (
            <div>
              <dt>{dag.origin.kind === 'retry' ? 'Retry of' : 'Re-run of'}</dt>
              <dd data-testid="dag-origin">
                <Link to={`/dags/${encodeURIComponent(dag.origin.dagId)}`} className="mono">
                  {dag.origin.dagId.slice(0, 8)}
                </Link>
              </dd>
            </div>
          ) : null}
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
        <DagGraph tasks={dag.tasks} selected={selectedTask?.name ?? null} onSelect={select} />
        <p className="muted small dag-legend">
          Arrows point from a task to the tasks that wait for it. Click a task (or its Log button) to see its log below. Each input says <span className="cache cache-hit">hit</span> (served from the worker’s
          cache) or <span className="cache cache-miss">miss</span> (downloaded) once its task has started.
        </p>
      </div>

      {selectedTask?.taskId ? (
        <div className="dag-task-log" data-testid="dag-task-log">
          <p className="small">
            Log of <strong>{selectedTask.name}</strong> ·{' '}
            <Link to={`/tasks/${encodeURIComponent(selectedTask.taskId)}`}>open the task</Link>
            {selectedTask.reusedFrom ? <span className="muted"> · reused: it ran in run {selectedTask.reusedFrom.slice(0, 8)}</span> : null} ·{' '}
            <button type="button" className="btn btn-small" onClick={() => select(selectedTask.name)}>
              Close
            </button>
          </p>
          <TaskLogs key={selectedTask.taskId} taskId={selectedTask.taskId} />
        </div>
      ) : null}

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
