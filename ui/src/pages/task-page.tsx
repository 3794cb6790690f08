// One task: status and reason, Cancel / Resubmit, the attempts timeline, the live log, its
// output files (downloaded with the bearer token) and its events.
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { between, formatBytes, formatCpu, formatDuration, formatTime } from '../api/format.ts';
import { submissionFromTask } from '../api/task-form.ts';
import { TERMINAL_STATUSES, type Attempt, type Task, type TaskDetails } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { saveBlob } from '../components/save-blob.ts';
import { useConfirm } from '../components/confirm-dialog.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TaskLogs } from '../components/task-logs.tsx';
import { useEvents } from '../live/use-events.ts';

/** The task's container settings in one line: network, user, read-only root, added capabilities, pull policy. */
function containerLine(t: Task): string {
  return [
    `network ${t.network ?? 'default'}`,
    t.user ? `user ${t.user}` : 'image user',
    ...(t.readOnlyRootFilesystem ? ['read-only root'] : []),
    ...(t.capAdd ?? []).map((c) => `+${c}`),
    `pull ${t.pullPolicy ?? 'IfNotPresent'}`,
  ].join(' · ');
}

/** The retry policy beyond its count: "backoff 5 s ×2 up to 300 s · retry on exit codes 75, 137; timed_out". */
export function retryPolicyLine(t: Task): string {
  const p = t.retryPolicy;
  if (!p) return '';
  const parts: string[] = [];
  if (p.backoffSeconds !== undefined) parts.push(`backoff ${p.backoffSeconds} s ×${p.backoffMultiplier ?? 2} up to ${p.maxBackoffSeconds ?? '–'} s`);
  const on = [...(p.retryOn?.exitCodes?.length ? [`exit code${p.retryOn.exitCodes.length > 1 ? 's' : ''} ${p.retryOn.exitCodes.join(', ')}`] : []), ...(p.retryOn?.outcomes ?? [])];
  if (on.length > 0) parts.push(`retry on ${on.join('; ')}`);
  return parts.join(' · ');
}

/** What the worker applied to the latest attempt that started (limits, user, capabilities, network). */
export function AppliedSettings({ attempts }: { attempts: Attempt[] }) {
  const effective = [...attempts].reverse().find((a) => a.effective)?.effective;
  if (!effective) return null;
  return (
    <dl className="kv small" data-testid="attempt-effective">
      <dt>Applied</dt>
      <dd>
        {effective.cpu ? `${formatCpu(effective.cpu)} CPU` : 'no CPU quota'} · {effective.memory ? formatBytes(effective.memory) : 'no memory limit'}
        {effective.disk ? ` · ${formatBytes(effective.disk)} disk` : ''}
      </dd>
      <dt>User</dt>
      <dd>{effective.user || 'the image’s'}{effective.readOnlyRootFilesystem ? ' · read-only root' : ''}{effective.noNewPrivileges ? ' · no new privileges' : ''}</dd>
      <dt>Network</dt>
      <dd className="mono">{effective.network}</dd>
      <dt>Capabilities</dt>
      <dd className="mono small">{effective.capabilities.join(' ') || 'none'}</dd>
    </dl>
  );
}

export function AttemptsTimeline({ attempts, now = Date.now() }: { attempts: Attempt[]; now?: number }) {
  if (attempts.length === 0) return <Empty>No attempt yet: the task is waiting to be placed.</Empty>;
  const start = Math.min(...attempts.map((a) => Date.parse(a.createdAt)));
  const end = Math.max(...attempts.map((a) => Date.parse(a.finishedAt ?? '') || now), start + 1);
  const span = end - start;
  return (
    <ol className="timeline">
      {attempts.map((a) => {
        const from = Date.parse(a.createdAt);
        const to = Date.parse(a.finishedAt ?? '') || now;
        const left = ((from - start) / span) * 100;
        const width = Math.max(1.5, ((to - from) / span) * 100);
        // stopped (or being stopped) for a higher-priority task: who, linked, instead of the error
        const preempted = (a.status === 'preempting' || a.status === 'preempted') && a.preemptedBy ? a.preemptedBy : undefined;
        return (
          <li key={a.id} className="attempt" data-attempt={a.number}>
            <div className="attempt-head">
              <strong>#{a.number}</strong>
              <StatusBadge status={a.status} />
              <span className="muted small">
                on <Link to={`/workers/${encodeURIComponent(a.workerId)}`}>{a.workerId.slice(0, 12)}</Link>
              </span>
              <span className="small">exit {a.exitCode ?? '–'}</span>
              {a.gpuIds && a.gpuIds.length > 0 ? <span className="small mono" data-testid="attempt-gpus">GPU {a.gpuIds.join(', ')}</span> : null}
              <span className="muted small">{formatDuration(between(a.startedAt ?? a.createdAt, a.finishedAt, now) ?? Number.NaN)}</span>
            </div>
            <div className="attempt-track" aria-hidden="true">
              <div className={`attempt-bar attempt-${a.status}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
            </div>
            <div className="muted small">
              {formatTime(a.createdAt)}
              {a.finishedAt ? ` → ${formatTime(a.finishedAt)}` : ''}
            </div>
            {preempted ? (
              <div className="small" data-testid="attempt-preempted-by">
                {a.status === 'preempting' ? 'being preempted by' : 'preempted by'}{' '}
                <Link to={`/tasks/${encodeURIComponent(preempted.taskId)}`}>task {preempted.taskId.slice(0, 12)}</Link> (priority {preempted.priority}, queue{' '}
                {preempted.queue}){a.status === 'preempted' ? '; re-queued without using a retry' : ''}
              </div>
            ) : null}
            {a.error && !preempted ? <div className="attempt-error">{a.error}</div> : null}
            {a.logChunksMissing ? (
              <div className="attempt-error">
                {a.logChunksMissing} log chunk{a.logChunksMissing === 1 ? '' : 's'} the worker sent never arrived
              </div>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export function TaskPage() {
  const { id = '' } = useParams();
  const { api } = useAuth();
  const navigate = useNavigate();
  const task = useResource<TaskDetails>((signal) => api.get<{ task: TaskDetails }>(`/api/tasks/${encodeURIComponent(id)}`, signal).then((a) => a.task), [api, id]);
  const [busy, setBusy] = useState(false);
  const [confirmDialog, confirm] = useConfirm();
  const [actionError, setActionError] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);

  useEvents((message) => {
    if (message.type === 'task' && message.task.id === id) {
      // the status at once, then attempts, files and events
      task.set((current) => (current ? { ...current, ...message.task } : current));
      task.reload();
    }
  }, task.reload);

  if (!task.data) {
    return (
      <section className="page">
        <p className="crumbs">
          <Link to="/tasks">Tasks</Link> /
        </p>
        {task.error ? (
          task.error instanceof ApiError && task.error.status === 404 ? (
            <Empty>No task with id {id} (or it belongs to someone else).</Empty>
          ) : (
            <ErrorBox error={task.error} retry={task.reload} />
          )
        ) : (
          <Loading what="Loading the task" />
        )}
      </section>
    );
  }
  const t = task.data;
  const terminal = TERMINAL_STATUSES.has(t.status);

  const cancel = async () => {
    const yes = await confirm({
      title: `Cancel ${t.name}?`,
      message: t.status === 'queued' ? 'It leaves the queue and never runs.' : 'Its running attempt is stopped; the task ends cancelled and is not retried.',
      confirmLabel: 'Cancel task',
      cancelLabel: 'Keep running',
      danger: true,
    });
    if (!yes) return;
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.delete<{ task: Task }>(`/api/tasks/${encodeURIComponent(t.id)}`);
      task.set((current) => (current ? { ...current, ...answer.task } : current));
      task.reload();
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  const resubmit = async () => {
    const yes = await confirm({ title: `Resubmit ${t.name}?`, message: 'A new task with the same settings is queued; this one stays as it is.', confirmLabel: 'Resubmit', cancelLabel: 'Not now' });
    if (!yes) return;
    setBusy(true);
    setActionError(null);
    try {
      const answer = await api.post<{ task: Task }>('/api/tasks', submissionFromTask(t));
      navigate(`/tasks/${encodeURIComponent(answer.task.id)}`);
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  const download = (path: string) => {
    setFileError(null);
    api.download(`/api/files/${encodeURIComponent(t.id)}/download/${path.split('/').map(encodeURIComponent).join('/')}`).then(
      (blob) => saveBlob(blob, path.split('/').pop() ?? 'output'),
      (error: unknown) => setFileError(`${path}: ${error instanceof Error ? error.message : String(error)}`),
    );
  };

  return (
    <section className="page">
      <p className="crumbs">
        <Link to="/tasks">Tasks</Link> / {t.name}
      </p>
      <div className="page-head">
        <h1>
          {t.name} <StatusBadge status={t.status} />
        </h1>
        <div className="actions">
          {!terminal ? (
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void cancel()}>
              Cancel
            </button>
          ) : null}
          <button type="button" className="btn" disabled={busy} onClick={() => void resubmit()}>
            Resubmit
          </button>
          <Link className="btn btn-ghost" to="/tasks/new" state={{ from: t }}>
            Edit &amp; resubmit
          </Link>
        </div>
      </div>
      {confirmDialog}
      {actionError ? <ErrorBox error={actionError} /> : null}
      {t.reason ? (
        <p className={`reason-box reason-${t.status}`} data-testid="task-reason">
          {t.reason}
          {t.status === 'queued' && t.queuePosition !== undefined ? ` · position ${t.queuePosition} in queue ${t.queue ?? 'default'}` : ''}
        </p>
      ) : null}

      <div className="grid-2">
        <div className="card">
          <h2 className="card-title">Task</h2>
          <dl className="kv">
            <dt>Id</dt>
            <dd className="mono">{t.id}</dd>
            <dt>Image</dt>
            <dd className="mono">{t.image || '–'}</dd>
            <dt>Command</dt>
            <dd className="mono wrap">{t.command.length ? (t.command[0] === 'sh' && t.command[1] === '-c' ? t.command[2] : JSON.stringify(t.command)) : '(image default)'}</dd>
            <dt>Runtime</dt>
            <dd>{t.runtime}</dd>
            <dt>Resources</dt>
            <dd>
              {formatCpu(t.resources.cpu)} CPU · {formatBytes(t.resources.memory)}
              {t.resources.gpu ? ` · ${t.resources.gpu} GPU` : ''}
              {t.resources.disk ? ` · ${formatBytes(t.resources.disk)} disk` : ''}
            </dd>
            <dt>Priority</dt>
            <dd>{t.priority}</dd>
            {t.dagId ? (
              <>
                <dt>DAG run</dt>
                <dd data-testid="task-dag">
                  <Link to={`/dags/${encodeURIComponent(t.dagId)}?task=${encodeURIComponent(t.dagTask ?? '')}`}>
                    {t.dagTask ? `task ${t.dagTask} of run ${t.dagId.slice(0, 8)}` : `run ${t.dagId.slice(0, 8)}`}
                  </Link>
                </dd>
              </>
            ) : null}
            {t.queue !== undefined ? (
              <>
                <dt>Queue</dt>
                <dd data-testid="task-queue">
                  <Link to={`/queues#${encodeURIComponent(t.queue)}`}>{t.queue}</Link>
                  {t.pinnedWorkerId ? ` · pinned to worker ${t.pinnedWorkerId}` : ''}
                </dd>
              </>
            ) : null}
            {t.gangId !== undefined ? (
              <>
                <dt>Gang</dt>
                <dd data-testid="task-gang">
                  <Link to={`/gangs/${encodeURIComponent(t.gangId)}`}>gang {t.gangId.slice(0, 8)}</Link> · rank {t.gangRank ?? '?'}
                </dd>
              </>
            ) : null}
            <dt>Retries</dt>
            <dd data-testid="task-retries">
              {t.retriesUsed} of {t.maxRetries} used
              {retryPolicyLine(t) ? <div className="muted small">{retryPolicyLine(t)}</div> : null}
              {t.deadLetteredAt ? (
                <div className="small">
                  In the <Link to="/dead-letters">dead letters</Link> since {formatTime(t.deadLetteredAt)}
                </div>
              ) : null}
            </dd>
            <dt>Timeout</dt>
            <dd>{t.timeoutSeconds ? `${t.timeoutSeconds} s` : 'none'}</dd>
            {t.startDeadline || t.deadline ? (
              <>
                <dt>Deadlines</dt>
                <dd data-testid="task-deadlines">
                  {t.startDeadline ? (
                    <div>
                      start by {formatTime(t.startDeadline)}
                      {t.deadlineExceeded === 'startDeadline' ? <strong className="text-bad"> · exceeded</strong> : null}
                    </div>
                  ) : null}
                  {t.deadline ? (
                    <div>
                      end by {formatTime(t.deadline)}
                      {t.deadlineExceeded === 'deadline' ? <strong className="text-bad"> · exceeded</strong> : null}
                    </div>
                  ) : null}
                </dd>
              </>
            ) : null}
            <dt>Container</dt>
            <dd data-testid="task-container">{containerLine(t)}</dd>
            {Object.keys(t.env).length ? (
              <>
                <dt>Env</dt>
                <dd className="mono small">
                  {Object.entries(t.env).map(([k, v]) => (
                    <div key={k}>
                      {k}={v}
                    </div>
                  ))}
                </dd>
              </>
            ) : null}
            {Object.keys(t.labels).length ? (
              <>
                <dt>Labels</dt>
                <dd>
                  {Object.entries(t.labels).map(([k, v]) => (
                    <span className="chip" key={k}>
                      {k}={v}
                    </span>
                  ))}
                </dd>
              </>
            ) : null}
            <dt>Created</dt>
            <dd>{formatTime(t.createdAt)}</dd>
            <dt>Finished</dt>
            <dd>
              {t.finishedAt ? formatTime(t.finishedAt) : '–'}
              {t.exitCode !== undefined ? ` · exit ${t.exitCode}` : ''}
            </dd>
          </dl>
        </div>
        <div className="card">
          <h2 className="card-title">Attempts</h2>
          <AttemptsTimeline attempts={t.attempts} />
          <AppliedSettings attempts={t.attempts} />
        </div>
      </div>

      <TaskLogs taskId={t.id} attempts={t.attempts} />

      <div className="grid-2">
        <div className="card">
          <h2 className="card-title">Output files</h2>
          {fileError ? <p className="form-error">{fileError}</p> : null}
          {t.files.length === 0 ? (
            <Empty>{terminal ? 'This task wrote nothing to /output.' : 'Files written to /output appear here when the task ends.'}</Empty>
          ) : (
            <ul className="files">
              {t.files.map((f) => (
                <li key={f.path}>
                  <button type="button" className="link" onClick={() => download(f.path)} title={`sha256 ${f.sha256}`}>
                    {f.path}
                  </button>
                  <span className="muted small">{formatBytes(f.size)}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="card">
          <h2 className="card-title">Events</h2>
          {t.events.length === 0 ? (
            <Empty>No events yet.</Empty>
          ) : (
            <ol className="events">
              {t.events.map((e, i) => (
                <li key={`${e.at}-${i}`}>
                  <span className="muted small nowrap">{formatTime(e.at)}</span> <strong className="small">{e.kind}</strong>{' '}
                  <span className="small">{e.message}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
      </div>
    </section>
  );
}
