// Dead letters: tasks that failed through their retry policy (no retry left, or an ending their
// retryOn does not name), newest first, with their last error and attempts. Each can be
// re-queued as the same task (new attempts, retries reset) or dismissed (it stays failed), one
// by one or the selected ones together; the answer says what was skipped and why. Users see
// their own; admins everyone's (the API decides).
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../api/client.ts';
import { ago, formatTime } from '../api/format.ts';
import type { DeadLetter, DeadLetterBulkAnswer } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';

export const DEAD_LETTER_PAGE_SIZE = 100;

interface Page {
  deadLetters: DeadLetter[];
  nextCursor: string | null;
}

type Action = 'requeue' | 'dismiss';

/** "Re-queued 2 tasks; skipped 1: task x is not a dead letter (…)". */
export function describeBulk(action: Action, answer: DeadLetterBulkAnswer): string {
  const done = (action === 'requeue' ? answer.requeued : answer.dismissed) ?? [];
  const verb = action === 'requeue' ? 'Re-queued' : 'Dismissed';
  const parts = [`${verb} ${done.length} task${done.length === 1 ? '' : 's'}`];
  if (answer.skipped.length > 0) parts.push(`skipped ${answer.skipped.length}: ${answer.skipped.map((s) => s.message).join('; ')}`);
  if (answer.more) parts.push('more match: run it again');
  return `${parts.join('; ')}.`;
}

export function DeadLettersPage() {
  const { api } = useAuth();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);

  const page = useResource<Page>((signal) => api.get<Page>(`/api/dead-letters?limit=${DEAD_LETTER_PAGE_SIZE}`, signal), [api]);
  const rows = useMemo(() => page.data?.deadLetters ?? [], [page.data]);
  const allSelected = rows.length > 0 && rows.every((d) => selected.has(d.id));

  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const act = async (action: Action, taskIds: string[]) => {
    if (taskIds.length === 0) return;
    setBusy(true);
    setFailure(undefined);
    setMessage(undefined);
    try {
      const answer = await api.post<DeadLetterBulkAnswer>(`/api/dead-letters/${action}`, { taskIds });
      setMessage(describeBulk(action, answer));
      setSelected(new Set());
      page.reload();
    } catch (error: unknown) {
      setFailure(error instanceof ApiError ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  const chosen = rows.filter((d) => selected.has(d.id)).map((d) => d.id);

  return (
    <section className="page">
      <div className="page-head">
        <h1>Dead letters</h1>
      </div>
      <p className="muted">
        Tasks that failed with no retry left, or with an ending their retry policy does not retry. Re-queue one to run it again as the same task (new
        attempts, retries reset), or dismiss it (it stays failed).
      </p>
      {message ? (
        <p className="notice" role="status">
          {message}
        </p>
      ) : null}
      {failure ? <ErrorBox error={failure} /> : null}

      {page.loading && !page.data ? (
        <Loading what="Loading dead letters" />
      ) : page.error ? (
        <ErrorBox error={page.error} retry={page.reload} />
      ) : rows.length === 0 ? (
        <Empty>No dead letters: every task either succeeded, is still retrying, or was dealt with.</Empty>
      ) : (
        <>
          <div className="bulk-bar">
            <button type="button" className="btn btn-primary btn-small" disabled={busy || chosen.length === 0} onClick={() => void act('requeue', chosen)}>
              Re-queue selected ({chosen.length})
            </button>
            <button type="button" className="btn btn-small" disabled={busy || chosen.length === 0} onClick={() => void act('dismiss', chosen)}>
              Dismiss selected ({chosen.length})
            </button>
            {page.data?.nextCursor ? <span className="muted small">the newest {rows.length} shown</span> : null}
          </div>
          <div className="table-wrap">
            <table className="table dead-letters-table">
              <thead>
                <tr>
                  <th>
                    <input
                      type="checkbox"
                      aria-label="Select all"
                      checked={allSelected}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((d) => d.id)))}
                    />
                  </th>
                  <th>Name</th>
                  <th className="hide-sm">Image</th>
                  <th>Failed</th>
                  <th>Retries</th>
                  <th>Last error and attempts</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.id} data-task={d.id}>
                    <td>
                      <input type="checkbox" aria-label={`Select ${d.name}`} checked={selected.has(d.id)} onChange={() => toggle(d.id)} />
                    </td>
                    <td>
                      <Link to={`/tasks/${encodeURIComponent(d.id)}`}>{d.name}</Link>
                      <div className="muted small mono">{d.id.slice(0, 8)}</div>
                    </td>
                    <td className="hide-sm mono small">{d.image || d.runtime}</td>
                    <td title={formatTime(d.deadLetteredAt ?? d.finishedAt)}>{ago(d.deadLetteredAt ?? d.finishedAt)}</td>
                    <td>
                      {d.retriesUsed} of {d.maxRetries}
                    </td>
                    <td>
                      <div className="text-bad" data-testid="last-error">
                        {d.lastError ?? d.reason ?? '–'}
                      </div>
                      <details>
                        <summary className="small muted">
                          {d.attempts.length} attempt{d.attempts.length === 1 ? '' : 's'}
                        </summary>
                        <ol className="dead-letter-attempts small">
                          {d.attempts.map((a) => (
                            <li key={a.id}>
                              #{a.number} <StatusBadge status={a.status} /> exit {a.exitCode ?? '–'} on {a.workerId.slice(0, 12)}
                              {a.error ? ` — ${a.error}` : ''}
                            </li>
                          ))}
                        </ol>
                      </details>
                    </td>
                    <td className="nowrap">
                      <button type="button" className="btn btn-small" disabled={busy} onClick={() => void act('requeue', [d.id])}>
                        Re-queue
                      </button>{' '}
                      <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={() => void act('dismiss', [d.id])}>
                        Dismiss
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
