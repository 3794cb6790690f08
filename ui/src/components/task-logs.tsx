// The log panel of a task: follow (auto-scroll), pause (freeze the view while lines keep
// arriving underneath), stdout / stderr / system told apart and filtered, one attempt or all
// (each starts with a separator naming its worker and exit code), timestamps and wrapping on
// demand, a search of the whole log on the master (GET /api/tasks/:id/logs?grep=…) that jumps
// from match to match, and a download of the raw log (one attempt or all).
import { useCallback, useMemo, useState, type FormEvent } from 'react';
import type { Attempt, LogLinesAnswer, Worker } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { useTaskLogs } from '../live/use-task-logs.ts';
import { saveBlob } from './save-blob.ts';
import { LogView } from './log-view.tsx';
import { LiveIndicator } from './states.tsx';

/** Matches asked for at most in one search (the master pages; the rest are named, not shown). */
const MAX_MATCHES = 5000;

type StreamFilter = 'all' | 'stdout' | 'stderr';

interface Search {
  query: string;
  /** (attempt, n) of each match, in log order */
  matches: { attempt: number; n: number }[];
  /** the master has more matches than were fetched */
  more: boolean;
  /** which match is shown */
  index: number;
}

/** "attempt 2 (worker gpu-1, exit 137)": what an attempt's separator says. */
export function attemptLabel(number: number, attempt: Attempt | undefined, workerName: (id: string) => string): string {
  if (!attempt) return `attempt ${number}`;
  const ending = attempt.exitCode !== null ? `exit ${attempt.exitCode}` : attempt.status;
  return `attempt ${number} (worker ${workerName(attempt.workerId)}, ${ending})`;
}

export function TaskLogs({ taskId, attempts = [] }: { taskId: string; attempts?: Attempt[] }) {
  const { api } = useAuth();
  // worker names for the separators (an id prefix until they are known, or if they cannot be)
  const workers = useResource((signal) => api.get<{ workers: Worker[] }>('/api/workers', signal), [api]);
  const workerName = useCallback((id: string) => workers.data?.workers.find((w) => w.id === id)?.name ?? id.slice(0, 12), [workers.data]);
  const { buffer, version, complete, live } = useTaskLogs(taskId);
  const [follow, setFollow] = useState(true);
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [stream, setStream] = useState<StreamFilter>('all');
  const [attempt, setAttempt] = useState<number | 'all'>('all');
  const [timestamps, setTimestamps] = useState(false);
  const [wrap, setWrap] = useState(false);
  const [query, setQuery] = useState('');
  const [regex, setRegex] = useState(false);
  const [ignoreCase, setIgnoreCase] = useState(true);
  const [search, setSearch] = useState<Search | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);

  const total = buffer.length;
  const count = pausedAt ?? total;
  const seenAttempts = buffer.attempts;
  const lineCount = total - seenAttempts.length;
  const attemptNumbers = useMemo(() => {
    const numbers = new Set<number>([...attempts.map((a) => a.number), ...seenAttempts]);
    return [...numbers].sort((a, b) => a - b);
    // version: the buffer saw a new attempt
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [attempts, version]);

  // the rows the filters keep (separators stay with their attempt); undefined: all
  const view = useMemo(() => {
    if (stream === 'all' && attempt === 'all') return undefined;
    const rows: number[] = [];
    const lines = buffer.lines;
    for (let i = 0; i < count; i += 1) {
      const line = lines[i]!;
      if (attempt !== 'all' && line.attempt !== attempt) continue;
      if (stream !== 'all' && !line.separator && line.stream !== stream) continue;
      rows.push(i);
    }
    return rows;
    // version: the buffer grew (its array is the same object)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stream, attempt, count, version, buffer]);

  const byNumber = useMemo(() => new Map(attempts.map((a) => [a.number, a])), [attempts]);
  const separatorText = useCallback((number: number) => attemptLabel(number, byNumber.get(number), workerName), [byNumber, workerName]);

  const matchRows = useMemo(() => {
    if (!search) return undefined;
    const rows = new Set<number>();
    for (const match of search.matches) {
      const row = buffer.rowOf(match.attempt, match.n);
      if (row !== undefined) rows.add(row);
    }
    return rows;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search, version, buffer]);
  const currentMatch = search?.matches[search.index];
  const currentRow = currentMatch ? buffer.rowOf(currentMatch.attempt, currentMatch.n) : undefined;

  const runSearch = async (event: FormEvent) => {
    event.preventDefault();
    const text = query;
    if (text.trim() === '') {
      setSearch(null);
      setSearchError(null);
      return;
    }
    setSearching(true);
    setSearchError(null);
    try {
      const params = new URLSearchParams({ grep: text, limit: String(MAX_MATCHES) });
      if (regex) params.set('regex', '1');
      if (ignoreCase) params.set('ignoreCase', '1');
      if (stream !== 'all') params.set('stream', stream);
      if (attempt !== 'all') params.set('attempt', String(attempt));
      const answer = await api.get<LogLinesAnswer>(`/api/tasks/${encodeURIComponent(taskId)}/logs?${params.toString()}`);
      setSearch({ query: text, matches: answer.lines.map((l) => ({ attempt: l.attempt, n: l.n })), more: answer.next !== null, index: 0 });
      setPausedAt(null);
    } catch (failure: unknown) {
      setSearch(null);
      setSearchError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setSearching(false);
    }
  };
  const step = (by: number) =>
    setSearch((s) => (s && s.matches.length > 0 ? { ...s, index: (s.index + by + s.matches.length) % s.matches.length } : s));

  const download = () => {
    setDownloadError(null);
    const suffix = attempt === 'all' ? '' : `?attempt=${attempt}`;
    api.download(`/api/tasks/${encodeURIComponent(taskId)}/logs/raw${suffix}`).then(
      (blob) => saveBlob(blob, `task-${taskId.slice(0, 8)}${attempt === 'all' ? '' : `-attempt-${attempt}`}.log`),
      (error: unknown) => setDownloadError(error instanceof Error ? error.message : String(error)),
    );
  };

  return (
    <div className="logs card">
      <div className="logs-bar">
        <h2 className="card-title">Log</h2>
        {complete ? <span className="muted small">complete · {complete.status}{complete.exitCode !== null ? ` · exit ${complete.exitCode}` : ''}</span> : <LiveIndicator {...live} />}
        <span className="muted small" data-testid="log-count">
          {lineCount.toLocaleString()} lines
        </span>
        <span className="spacer" />
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <button type="button" className="btn btn-small" aria-pressed={pausedAt !== null} onClick={() => setPausedAt((p) => (p === null ? total : null))}>
          {pausedAt === null ? 'Pause' : `Resume${total > pausedAt ? ` (+${(total - pausedAt).toLocaleString()})` : ''}`}
        </button>
        <button type="button" className="btn btn-small" onClick={download}>
          Download{attempt === 'all' ? '' : ` attempt ${attempt}`}
        </button>
      </div>
      <div className="logs-bar logs-tools">
        <form className="log-search" role="search" onSubmit={(e) => void runSearch(e)}>
          <input
            type="search"
            aria-label="Search the log"
            placeholder="Search the whole log"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            maxLength={500}
          />
          <button type="submit" className="btn btn-small" disabled={searching}>
            {searching ? 'Searching…' : 'Search'}
          </button>
          <label className="check small">
            <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.target.checked)} />
            Regex
          </label>
          <label className="check small">
            <input type="checkbox" checked={!ignoreCase} onChange={(e) => setIgnoreCase(!e.target.checked)} />
            Match case
          </label>
        </form>
        {search ? (
          <span className="log-matches small" data-testid="log-matches" aria-live="polite">
            {search.matches.length === 0
              ? `no match for "${search.query}"`
              : `match ${search.index + 1} of ${search.matches.length.toLocaleString()}${search.more ? '+' : ''} · line ${currentMatch!.n} of attempt ${currentMatch!.attempt}${currentRow === undefined ? ' (not loaded yet)' : ''}`}
          </span>
        ) : null}
        {search && search.matches.length > 0 ? (
          <>
            <button type="button" className="btn btn-small" onClick={() => step(-1)} aria-label="Previous match">
              ↑ Previous
            </button>
            <button type="button" className="btn btn-small" onClick={() => step(1)} aria-label="Next match">
              ↓ Next
            </button>
          </>
        ) : null}
        <span className="spacer" />
        <select aria-label="Streams" value={stream} onChange={(e) => setStream(e.target.value as StreamFilter)}>
          <option value="all">All streams</option>
          <option value="stdout">stdout only</option>
          <option value="stderr">stderr only</option>
        </select>
        <select aria-label="Attempt" value={String(attempt)} onChange={(e) => setAttempt(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
          <option value="all">All attempts</option>
          {attemptNumbers.map((n) => (
            <option key={n} value={n}>
              Attempt {n}
            </option>
          ))}
        </select>
        <label className="check small">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} />
          Timestamps
        </label>
        <label className="check small">
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap(e.target.checked)} />
          Wrap
        </label>
      </div>
      {searchError ? (
        <p className="form-error" role="alert">
          {searchError}
        </p>
      ) : null}
      {downloadError ? <p className="form-error">{downloadError}</p> : null}
      {live.problem && !complete ? <p className="muted small">{live.problem}</p> : null}
      {total === 0 ? (
        <div className="log-empty muted">{complete ? 'This task wrote no output.' : live.state === 'open' ? 'Waiting for output…' : 'Connecting to the log…'}</div>
      ) : (
        <LogView
          lines={buffer.lines}
          count={count}
          view={view}
          version={version}
          follow={follow && pausedAt === null}
          onFollowChange={setFollow}
          wrap={wrap}
          timestamps={timestamps}
          current={currentRow}
          matches={matchRows}
          separatorText={separatorText}
        />
      )}
    </div>
  );
}
