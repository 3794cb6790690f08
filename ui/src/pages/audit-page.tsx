// For admins: the audit trail newest first (when, who, from where, action, object, outcome),
// filtered by user (an email or an id), action and a time back from now, a page at a time.
import { useState, type FormEvent } from 'react';
import { formatTime } from '../api/format.ts';
import type { AuditEntry } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Field } from '../components/field.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';

interface Filters {
  user: string;
  action: string;
  since: string;
}

const PAGE = 50;

function query(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (filters.user.trim()) params.set('user', filters.user.trim());
  if (filters.action.trim()) params.set('action', filters.action.trim());
  if (filters.since.trim()) params.set('since', filters.since.trim());
  if (cursor) params.set('cursor', cursor);
  return `/api/audit?${params.toString()}`;
}

export function AuditPage() {
  const { api, user } = useAuth();
  const [draft, setDraft] = useState<Filters>({ user: '', action: '', since: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [more, setMore] = useState<{ entries: AuditEntry[]; cursor: string | null }>({ entries: [], cursor: null });
  const [moreError, setMoreError] = useState<string | null>(null);
  const first = useResource(
    (signal) =>
      api.get<{ entries: AuditEntry[]; nextCursor: string | null }>(query(filters), signal).then((page) => {
        setMore({ entries: [], cursor: page.nextCursor });
        return page.entries;
      }),
    [api, filters],
  );
  if (user?.role !== 'admin') return <ErrorBox error="Only admins read the audit trail." />;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setMoreError(null);
    setFilters({ ...draft });
  };
  const loadMore = async () => {
    if (!more.cursor) return;
    try {
      const page = await api.get<{ entries: AuditEntry[]; nextCursor: string | null }>(query(filters, more.cursor));
      setMore((current) => ({ entries: [...current.entries, ...page.entries], cursor: page.nextCursor }));
    } catch (failure: unknown) {
      setMoreError(failure instanceof Error ? failure.message : String(failure));
    }
  };
  const entries = first.data ? [...first.data, ...more.entries] : undefined;

  return (
    <section className="page">
      <div className="page-head">
        <h1>Audit</h1>
      </div>
      <form className="audit-filters" onSubmit={apply} aria-label="Audit filters">
        <Field label="User" hint="email or id">
          {(props) => <input {...props} type="text" value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} />}
        </Field>
        <Field label="Action" hint="e.g. task.submit">
          {(props) => <input {...props} type="text" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} />}
        </Field>
        <Field label="Since" hint="e.g. 24h, 7d or an ISO time">
          {(props) => <input {...props} type="text" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />}
        </Field>
        <button type="submit" className="btn btn-primary">
          Filter
        </button>
      </form>
      {first.error ? (
        <ErrorBox error={first.error} retry={first.reload} />
      ) : !entries ? (
        <Loading what="Loading the audit trail" />
      ) : entries.length === 0 ? (
        <Empty>No audit entries match.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" aria-label="Audit entries">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th className="hide-sm">From</th>
                  <th>Action</th>
                  <th className="hide-sm">Object</th>
                  <th>Outcome</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id}>
                    <td className="nowrap muted">{formatTime(entry.at)}</td>
                    <td>{entry.userEmail ?? entry.userId ?? '–'}</td>
                    <td className="hide-sm mono small">{entry.address}</td>
                    <td className="mono small">{entry.action}</td>
                    <td className="hide-sm mono small">{entry.object ?? '–'}</td>
                    <td className={entry.outcome === 'ok' ? 'outcome-ok' : 'outcome-refused'}>
                      {entry.outcome}
                      {entry.status ? <span className="muted small"> ({entry.status})</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {moreError ? (
            <p className="form-error" role="alert">
              {moreError}
            </p>
          ) : null}
          {more.cursor ? (
            <button type="button" className="btn" onClick={() => void loadMore()}>
              Load more
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
