// One gang: its status and why it waits or how it ended, and its members together in rank order
// (task, status, worker, attempts, reason); refreshed from /ws/events when the gang or one of its
// members changes; Cancel while it is pending or running.
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { formatTime } from '../api/format.ts';
import type { GangDetails } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useEvents } from '../live/use-events.ts';

export function GangPage() {
  const { id = '' } = useParams();
  const { api } = useAuth();
  const gang = useResource<GangDetails>((signal) => api.get<{ gang: GangDetails }>(`/api/gangs/${encodeURIComponent(id)}`, signal).then((a) => a.gang), [api, id]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const live = useEvents((message) => {
    if ((message.type === 'gang' && message.gang.id === id) || (message.type === 'task' && message.task.gangId === id)) gang.reload();
  }, gang.reload);

  const g = gang.data;
  if (!g) {
    return (
      <section className="page">
        <p className="crumbs">
          <Link to="/tasks">Tasks</Link> / gang
        </p>
        {gang.error ? (
          gang.error instanceof ApiError && gang.error.status === 404 ? <Empty>No gang with id {id} (or it belongs to someone else).</Empty> : <ErrorBox error={gang.error} retry={gang.reload} />
        ) : (
          <Loading what="Loading the gang" />
        )}
      </section>
    );
  }

  const cancel = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.delete<{ gang: GangDetails }>(`/api/gangs/${encodeURIComponent(g.id)}`);
      gang.set(() => answer.gang);
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/tasks">Tasks</Link> / gang {g.name}
      </p>
      <div className="page-head">
        <h1>
          {g.name} <StatusBadge status={g.status} />
        </h1>
        <LiveIndicator {...live} />
        <div className="actions">
          {g.status === 'pending' || g.status === 'running' ? (
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void cancel()}>
              Cancel gang
            </button>
          ) : null}
        </div>
      </div>
      {actionError ? <ErrorBox error={actionError} /> : null}
      {g.reason ? (
        <p className="card small" data-testid="gang-reason">
          {g.reason}
        </p>
      ) : null}
      <div className="card">
        <dl className="dag-facts">
          <div>
            <dt>Gang</dt>
            <dd className="mono">{g.id}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{g.size}</dd>
          </div>
          <div>
            <dt>Policy</dt>
            <dd>
              {g.policy}
              {g.policy === 'restartGang' ? ` (${g.restartsUsed} of ${g.maxRestarts} restarts used)` : ''}
            </dd>
          </div>
          <div>
            <dt>Timeout</dt>
            <dd>{g.gangTimeoutSeconds > 0 ? `${g.gangTimeoutSeconds}s to be placed` : 'none'}</dd>
          </div>
          <div>
            <dt>Ports</dt>
            <dd>
              {g.port}–{g.port + g.size - 1}
            </dd>
          </div>
          <div>
            <dt>Submitted</dt>
            <dd>{formatTime(g.createdAt)}</dd>
          </div>
        </dl>
      </div>
      <div className="card">
        <h2 className="card-title">Members</h2>
        <div className="table-wrap">
          <table className="table gang-members">
            <caption className="sr-only">The gang's members in rank order</caption>
            <thead>
              <tr>
                <th>Rank</th>
                <th>Task</th>
                <th>Status</th>
                <th>Worker</th>
                <th>Attempts</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {g.members.map((m) => (
                <tr key={m.taskId} data-rank={m.rank} data-status={m.status}>
                  <td>{m.rank}</td>
                  <td>
                    <Link to={`/tasks/${encodeURIComponent(m.taskId)}`}>{m.name}</Link>
                  </td>
                  <td>
                    <StatusBadge status={m.status} />
                  </td>
                  <td>{m.workerId ? <Link to={`/workers/${encodeURIComponent(m.workerId)}`}>{m.workerId}</Link> : '—'}</td>
                  <td>{m.attemptCount}</td>
                  <td className="small">{m.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
