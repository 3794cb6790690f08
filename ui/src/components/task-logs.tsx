// The log panel of a task: follow (auto-scroll), pause (freeze the view while lines keep
// arriving underneath), stdout / stderr / system told apart, and a download of the whole log.
import { useState } from 'react';
import { useAuth } from '../auth/auth.tsx';
import { useTaskLogs } from '../live/use-task-logs.ts';
import { saveBlob } from './save-blob.ts';
import { LogView } from './log-view.tsx';
import { LiveIndicator } from './states.tsx';

export function TaskLogs({ taskId }: { taskId: string }) {
  const { api } = useAuth();
  const { buffer, version, complete, live } = useTaskLogs(taskId);
  const [follow, setFollow] = useState(true);
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const total = buffer.length;
  const count = pausedAt ?? total;

  return (
    <div className="logs card">
      <div className="logs-bar">
        <h2 className="card-title">Log</h2>
        {complete ? <span className="muted small">complete · {complete.status}{complete.exitCode !== null ? ` · exit ${complete.exitCode}` : ''}</span> : <LiveIndicator {...live} />}
        <span className="muted small" data-testid="log-count">
          {total.toLocaleString()} lines
        </span>
        <span className="spacer" />
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <button
          type="button"
          className="btn btn-small"
          aria-pressed={pausedAt !== null}
          onClick={() => setPausedAt((p) => (p === null ? total : null))}
        >
          {pausedAt === null ? 'Pause' : `Resume${total > pausedAt ? ` (+${(total - pausedAt).toLocaleString()})` : ''}`}
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setDownloadError(null);
            api.download(`/api/tasks/${encodeURIComponent(taskId)}/logs`).then(
              (blob) => saveBlob(blob, `${taskId}.log`),
              (error: unknown) => setDownloadError(error instanceof Error ? error.message : String(error)),
            );
          }}
        >
          Download
        </button>
      </div>
      {downloadError ? <p className="form-error">{downloadError}</p> : null}
      {live.problem && !complete ? <p className="muted small">{live.problem}</p> : null}
      {total === 0 ? (
        <div className="log-empty muted">{complete ? 'This task wrote no output.' : live.state === 'open' ? 'Waiting for output…' : 'Connecting to the log…'}</div>
      ) : (
        <LogView lines={buffer.lines} count={count} version={version} follow={follow && pausedAt === null} onFollowChange={setFollow} />
      )}
    </div>
  );
}
