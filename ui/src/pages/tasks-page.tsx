// Tasks, newest first, a page at a time (the API's cursor), filtered by status; rows change
// live as /ws/events reports status changes and new tasks appear at the top of the first page.
// Name search filters the tasks of the page on screen: the API has no name search, so the page
// says what it searched rather than implying the whole history was.
import { useCallback, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { formatBytes, formatCpu, formatTime } from '../api/format.ts';
import { TASK_STATUSES, type Task, type TaskStatus } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useEvents } from '../live/use-events.ts';

export const PAGE_SIZE = 25;

interface Page {
  tasks: Task[];
  nextCursor: string | null;
}

/** Applies a live task change to the page on screen. */
export function applyTaskChange(page: Page, task: Task, options: { status: TaskStatus | ''; firstPage: boolean }): Page {
  const index = page.tasks.findIndex((t) => t.id === task.id);
  const matches = !options.status || task.status === options.status;
  if (index >= 0) {
    const tasks = page.tasks.slice();
    if (matches) tasks[index] = task;
    else tasks.splice(index, 1);
    return { ...page, tasks };
  }
  if (!matches || !options.firstPage) return page;
  // a task this page has not seen: newer than everything on the first page? then it goes on top
  const newest = page.tasks[0];
  if (newest && Date.parse(task.createdAt) < Date.parse(newest.createdAt)) return page;
  // the page grows rather than pushing its oldest row off: the cursor to the next page still
  // starts after that row, so trimming it would hide it from both pages
  return { ...page, tasks: [task, ...page.tasks] };
}

export function TasksPage() {
  const { api } = useAuth();
  const [params, setParams] = useSearchParams();
  const status = (TASK_STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as TaskStatus) : '';
  const query = params.get('q') ?? '';
  // cursors of the pages before this one (Previous pops it)
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];

  const page = useResource<Page>(
    (signal) => {
      const search = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (status) search.set('status', status);
      if (cursor) search.set('cursor', cursor);
      return api.get<Page>(`/api/tasks?${search.toString()}`, signal);
    },
    [api, status, cursor],
  );

  const live = useEvents(
    useCallback(
      (message) => {
        if (message.type !== 'task') return;
        page.set((current) => (current ? applyTaskChange(current, message.task, { status, firstPage: cursors.length === 0 }) : current));
      },
      // eslint-disable-next-line react-hooks/exhaustive-deps
      [status, cursors.length],
    ),
  );

  const setParam = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    const tasks = page.data?.tasks ?? [];
    return needle ? tasks.filter((t) => t.name.toLowerCase().includes(needle) || t.id.toLowerCase().includes(needle)) : tasks;
  }, [page.data, query]);

  return (
    <section className="page">
      <div className="page-head">
        <h1>Tasks</h1>
        <LiveIndicator {...live} />
        <div className="actions">
          <Link to="/tasks/new" className="btn btn-primary">
            Submit task
          </Link>
        </div>
      </div>
      <div className="filters">
        <div className="field field-inline">
          <label htmlFor="task-status">Status</label>
          <select
            id="task-status"
            value={status}
            onChange={(e) => {
              setCursors([]);
              setParam('status', e.target.value);
            }}
          >
            <option value="">All</option>
            {TASK_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline field-grow">
          <label htmlFor="task-search">Search by name</label>
          <input id="task-search" type="search" placeholder="name or id on this page" value={query} onChange={(e) => setParam('q', e.target.value)} />
        </div>
      </div>

      {page.loading && !page.data ? (
        <Loading what="Loading tasks" />
      ) : page.error ? (
        <ErrorBox error={page.error} retry={page.reload} />
      ) : shown.length === 0 ? (
        <Empty>
          {query
            ? `No task on this page has a name containing “${query}”.`
            : status
              ? `No ${status} tasks.`
              : (
                  <>
                    No tasks yet. <Link to="/tasks/new">Submit one</Link>.
                  </>
                )}
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table tasks-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th className="hide-sm">Image</th>
                <th className="hide-sm">Resources</th>
                <th>Created</th>
                <th className="hide-sm">Exit</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((task) => (
                <tr key={task.id} data-task={task.id} data-status={task.status}>
                  <td>
                    <Link to={`/tasks/${encodeURIComponent(task.id)}`} className="strong">
                      {task.name}
                    </Link>
                    <div className="muted small mono ellipsis">{task.id}</div>
                  </td>
                  <td>
                    <StatusBadge status={task.status} />
                    {task.reason && task.status === 'queued' ? <div className="muted small reason">{task.reason}</div> : null}
                  </td>
                  <td className="hide-sm mono small">{task.image || task.runtime}</td>
                  <td className="hide-sm nowrap small">
                    {formatCpu(task.resources.cpu)} CPU · {formatBytes(task.resources.memory)}
                  </td>
                  <td className="nowrap small" title={task.createdAt}>
                    {formatTime(task.createdAt)}
                  </td>
                  <td className="hide-sm">{task.exitCode ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {query && page.data ? (
        <p className="muted small">
          Searched the {page.data.tasks.length} tasks on this page.
        </p>
      ) : null}
      <div className="pager">
        <button type="button" className="btn" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted small">Page {cursors.length + 1}</span>
        <button
          type="button"
          className="btn"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            const next = page.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Older →
        </button>
      </div>
    </section>
  );
}
