// One worker: capacity and reservations, history charts (GET /api/workers/:id/metrics, then
// live from /ws/telemetry/:id), what it runs now, its recent tasks and what happened to it
// (GET /api/workers/:id/history: joined, drained, lost, …), and Drain / Activate / Remove for admins.
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { ago, formatBytes, formatCpu, formatPercent, formatTime } from '../api/format.ts';
import type { Worker, WorkerHistory } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { ResourceBar } from '../components/resource-bar.tsx';
import { useConfirm } from '../components/confirm-dialog.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { UsageChart } from '../components/usage-chart.tsx';
import { useTelemetry } from '../live/use-telemetry.ts';
import { isStale } from './workers-page.tsx';

export function WorkerPage() {
  const { id = '' } = useParams();
  const { user, api } = useAuth();
  const { workers, history, error, live, reload } = useTelemetry({ workerId: id, maxPoints: 1200 });
  const [busy, setBusy] = useState(false);
  const [confirmDialog, confirm] = useConfirm();
  const [actionError, setActionError] = useState<string | null>(null);
  const [override, setOverride] = useState<Worker | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const navigate = useNavigate();
  const current = workers?.find((w) => w.id === id);
  // the answer of Drain/Activate shows at once; the next live message replaces it
  useEffect(() => setOverride(null), [current]);
  const worker = current && override ? { ...current, ...override } : current;
  const points = history[id] ?? [];
  // read again whenever the worker's status or connection changes (a new history entry)
  const past = useResource<WorkerHistory>(
    (signal) => api.get<WorkerHistory>(`/api/workers/${encodeURIComponent(id)}/history?limit=20`, signal),
    [api, id, worker?.status, worker?.connected],
  );

  const act = async (action: 'drain' | 'activate') => {
    if (action === 'drain') {
      const name = worker?.name ?? id;
      const yes = await confirm({ title: `Drain ${name}?`, message: 'No new task is placed on it; the tasks it runs finish there. Activate undoes it.', confirmLabel: 'Drain', cancelLabel: 'Keep it active', danger: true });
      if (!yes) return;
    }
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.post<{ worker: Worker }>(`/api/workers/${encodeURIComponent(id)}/${action}`);
      setOverride(answer.worker);
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setActionError(null);
    try {
      await api.delete(`/api/workers/${encodeURIComponent(id)}`);
      navigate('/workers', { replace: true });
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  };

  if (!worker) {
    return (
      <section className="page">
        <p className="crumbs">
          <Link to="/workers">Workers</Link> /
        </p>
        {error ? (
          error instanceof ApiError && error.status === 404 ? (
            <Empty>No worker with id {id}.</Empty>
          ) : (
            <ErrorBox error={error} retry={reload} />
          )
        ) : (
          <Loading what="Loading the worker" />
        )}
      </section>
    );
  }

  const running = worker.running;
  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/workers">Workers</Link> / {worker.name}
      </p>
      <div className="page-head">
        <h1>
          {worker.name} <StatusBadge status={worker.status} />
        </h1>
        <LiveIndicator {...live} />
        {user?.role === 'admin' ? (
          <div className="actions">
            {worker.status === 'lost' ? null : worker.status === 'draining' ? (
              <button type="button" className="btn" disabled={busy} onClick={() => void act('activate')}>
                Activate
              </button>
            ) : (
              <button type="button" className="btn btn-warn" disabled={busy} onClick={() => void act('drain')}>
                Drain
              </button>
            )}
            <button type="button" className="btn btn-danger" disabled={busy || confirmRemove} onClick={() => setConfirmRemove(true)}>
              Remove
            </button>
          </div>
        ) : null}
      </div>
      {confirmDialog}
      {confirmRemove ? (
        <div className="notice confirm" role="alertdialog" aria-label={`Remove ${worker.name}?`}>
          <span>
            Remove {worker.name}? Its certificate is revoked and its stream closed
            {worker.runningTasks === 0
              ? ''
              : worker.runningTasks === 1
                ? '; its task runs elsewhere once the worker must have stopped it'
                : `; its ${worker.runningTasks} tasks run elsewhere once the worker must have stopped them`}
            . It can come back only by joining again with a join token.
          </span>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void remove()}>
            Remove worker
          </button>
          <button type="button" className="btn" disabled={busy} onClick={() => setConfirmRemove(false)}>
            Cancel
          </button>
        </div>
      ) : null}
      {actionError ? <ErrorBox error={actionError} /> : null}

      <div className="grid-2">
        <div className="card">
          <h2 className="card-title">Resources</h2>
          <ResourceBar label="CPU" used={worker.reserved.cpu} total={worker.capacity.cpu} format={formatCpu} />
          <ResourceBar label="Memory" used={worker.reserved.memory} total={worker.capacity.memory} format={formatBytes} />
          <ResourceBar label="GPU" used={worker.reserved.gpu} total={worker.capacity.gpu} format={String} />
          <ResourceBar label="Disk" used={worker.reserved.disk} total={worker.capacity.disk} format={formatBytes} />
        </div>
        <div className="card">
          <h2 className="card-title">Details</h2>
          <dl className="kv">
            <dt>Id</dt>
            <dd className="mono">{worker.id}</dd>
            <dt>Host</dt>
            <dd>{worker.hostname}</dd>
            <dt>Runtimes</dt>
            <dd>{worker.runtimes.join(', ')}</dd>
            <dt>GPU ids</dt>
            <dd data-testid="worker-gpu-ids">
              {worker.gpuIds && worker.gpuIds.length > 0
                ? worker.gpuIds.map((id) => (
                    <span key={id} className="chip" title={worker.gpuIdsInUse?.includes(id) ? 'held by a task' : 'free'}>
                      {id}
                      {worker.gpuIdsInUse?.includes(id) ? ' · in use' : ''}
                    </span>
                  ))
                : worker.capacity.gpu > 0
                  ? 'none given (a count only)'
                  : '–'}
            </dd>
            <dt>Labels</dt>
            <dd>
              {Object.entries(worker.labels).length === 0
                ? '–'
                : Object.entries(worker.labels).map(([k, v]) => (
                    <span key={k} className="chip">
                      {k}={v}
                    </span>
                  ))}
            </dd>
            <dt>{isStale(worker) ? 'Last usage' : 'Usage now'}</dt>
            <dd className={isStale(worker) ? 'stale' : undefined} data-testid="worker-usage">
              {isStale(worker) ? `last seen ${ago(worker.lastHeartbeatAt)}${worker.usage ? ' · was ' : ''}` : ''}
              {worker.usage
                ? `CPU ${formatPercent(worker.usage.cpuPercent)} · memory ${formatPercent(worker.usage.memoryPercent)} · disk ${formatPercent(worker.usage.diskPercent)}`
                : isStale(worker)
                  ? ''
                  : 'no sample yet'}
            </dd>
            <dt>Version</dt>
            <dd>{worker.version}</dd>
            <dt>Joined</dt>
            <dd>{formatTime(worker.registeredAt)}</dd>
            <dt>Heartbeat</dt>
            <dd title={worker.lastHeartbeatAt}>{ago(worker.lastHeartbeatAt)}</dd>
          </dl>
        </div>
      </div>

      <h2 className="section-title">History</h2>
      {points.length === 0 ? (
        <Empty>No usage samples yet.</Empty>
      ) : (
        <div className="grid-2">
          <div className="card">
            <h3 className="card-title">CPU and memory</h3>
            <UsageChart points={points} series={['cpu', 'memory', 'disk']} label={`CPU, memory and disk of ${worker.name}`} height={220} />
          </div>
          <div className="card">
            <h3 className="card-title">Running tasks</h3>
            <UsageChart points={points} series={['tasks']} percent={false} label={`Running tasks on ${worker.name}`} height={220} />
          </div>
        </div>
      )}

      <div className="grid-2">
        <div className="card">
          <h2 className="card-title">Recent tasks</h2>
          {past.error ? (
            <ErrorBox error={past.error} retry={past.reload} />
          ) : !past.data ? (
            <Loading what="Loading recent tasks" />
          ) : past.data.recentTasks.length === 0 ? (
            <Empty>{user?.role === 'admin' ? 'No task has run here yet.' : 'No task of yours has run here yet.'}</Empty>
          ) : (
            <ul className="worker-history" data-testid="worker-recent-tasks">
              {past.data.recentTasks.map((t) => (
                <li key={`${t.taskId}/${t.attempt}`}>
                  <Link to={`/tasks/${encodeURIComponent(t.taskId)}`}>{t.name}</Link>
                  {t.attempt > 1 ? <span className="muted small">attempt {t.attempt}</span> : null}
                  <StatusBadge status={t.attemptStatus} />
                  <span className="muted small" title={t.startedAt ?? t.createdAt}>
                    {ago(t.startedAt ?? t.createdAt)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="card">
          <h2 className="card-title">What happened</h2>
          {past.error ? null : !past.data ? (
            <Loading what="Loading the history" />
          ) : past.data.events.length === 0 ? (
            <Empty>Nothing recorded yet.</Empty>
          ) : (
            <ul className="worker-history" data-testid="worker-history">
              {past.data.events.map((e, i) => (
                <li key={`${e.at}/${i}`} data-kind={e.kind}>
                  <strong>{e.kind}</strong>
                  <span className="small" title={e.at}>
                    {formatTime(e.at)}
                  </span>
                  {e.detail ? <span className="muted small">{e.detail}</span> : null}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>

      <h2 className="section-title">Running tasks ({worker.runningTasks})</h2>
      {running === undefined ? (
        worker.runningTasks > 0 ? (
          <Loading what="Waiting for live telemetry" />
        ) : (
          <Empty>Nothing is running on this worker.</Empty>
        )
      ) : running.length === 0 ? (
        <Empty>Nothing is running on this worker.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Task</th>
                <th>CPU</th>
                <th>Memory</th>
                <th className="hide-sm">Attempt</th>
              </tr>
            </thead>
            <tbody>
              {running.map((r) => (
                <tr key={r.attemptId}>
                  <td>
                    <Link to={`/tasks/${encodeURIComponent(r.taskId)}`}>{r.name}</Link>
                  </td>
                  <td>{formatCpu(r.resources.cpu)}</td>
                  <td>{formatBytes(r.resources.memory)}</td>
                  <td className="hide-sm mono small">{r.attemptId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
