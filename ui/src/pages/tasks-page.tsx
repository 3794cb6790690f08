// Tasks, filtered and sorted by the API (GET /api/tasks: statuses, worker, owner, queue, DAG run,
// image, a part of the name, created since), a page at a time with its cursor, with how many
// match in all. Rows show the worker's name, the owner (admins), attempts, duration, the DAG run
// and why a task failed or waits. Rows change live as /ws/events reports status changes; new
// tasks appear on top of the first page when only statuses filter it. Tasks not yet ended can be
// selected and cancelled together, after a confirmation. The filters live in the URL.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { between, formatDuration, formatTime } from '../api/format.ts';
import { TASK_STATUSES, type Task, type TaskPage, type TaskStatus, type User, type Worker } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { WorkerName } from '../components/worker-name.tsx';
import { useEvents } from '../live/use-events.ts';

export const PAGE_SIZE = 25;

/** The text filters, as URL and API parameters (the same names). */
const TEXT_FILTERS = [
  { param: 'name', label: 'Name contains', placeholder: 'part of a name' },
  { param: 'worker', label: 'Worker', placeholder: 'name or id' },
  { param: 'image', label: 'Image', placeholder: 'exact image' },
  { param: 'queue', label: 'Queue', placeholder: 'queue name' },
  { param: 'dag', label: 'DAG run', placeholder: 'run id' },
] as const;
const OWNER_FILTER = { param: 'user', label: 'Owner', placeholder: 'email or user id' } as const;

const SINCE_CHOICES: readonly [string, string][] = [
  ['', 'Any time'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
];
const SORT_CHOICES: readonly [string, string][] = [
  ['-createdAt', 'Newest first'],
  ['createdAt', 'Oldest first'],
  ['-finishedAt', 'Finished most recently'],
  ['-duration', 'Longest first'],
  ['duration', 'Shortest first'],
];
const CANCELLABLE: ReadonlySet<TaskStatus> = new Set(['queued', 'assigned', 'running']);

/** The statuses of a `status=a,b` parameter that are statuses. */
export function statusesOf(value: string | null): TaskStatus[] {
  const wanted = new Set((value ?? '').split(','));
  return TASK_STATUSES.filter((s) => wanted.has(s));
}

/** Applies a live task change to the page on screen. */
export function applyTaskChange(page: TaskPage, task: Task, options: { statuses: readonly TaskStatus[]; firstPage: boolean; addNew: boolean }): TaskPage {
  const index = page.tasks.findIndex((t) => t.id === task.id);
  const matches = options.statuses.length === 0 || options.statuses.includes(task.status);
  if (index >= 0) {
    const tasks = page.tasks.slice();
    if (matches) tasks[index] = task;
    else tasks.splice(index, 1);
    const total = matches || page.total === undefined ? page.total : Math.max(0, page.total - 1);
    return { ...page, tasks, total };
  }
  if (!matches || !options.firstPage || !options.addNew) return page;
  // a task this page has not seen: newer than everything on the first page? then it goes on top
  const newest = page.tasks[0];
  if (newest && Date.parse(task.createdAt) < Date.parse(newest.createdAt)) return page;
  // the page grows rather than pushing its oldest row off: the cursor to the next page still
  // starts after that row, so trimming it would hide it from both pages
  return { ...page, tasks: [task, ...page.tasks], total: page.total === undefined ? undefined : page.total + 1 };
}

/** Why the task failed, waits or was cancelled, as one line (the API's reason; an exit code when there is none). */
export function taskReason(task: Task): string | undefined {
  if (task.status === 'succeeded' || task.status === 'running' || task.status === 'assigned') return undefined;
  if (task.reason) return task.reason;
  if (task.status === 'failed') return task.exitCode !== undefined ? `exit code ${task.exitCode}` : 'no reason recorded';
  return undefined;
}

export function TasksPage() {
  const { api, user } = useAuth();
  const admin = user?.role === 'admin';
  const [params, setParams] = useSearchParams();
  const statuses = statusesOf(params.get('status'));
  const statusParam = statuses.join(',');
  const since = params.get('since') ?? '';
  const sort = params.get('sort') ?? '-createdAt';
  const textFilters = admin ? [...TEXT_FILTERS, OWNER_FILTER] : TEXT_FILTERS;
  const applied = Object.fromEntries(textFilters.map((f) => [f.param, params.get(f.param) ?? ''])) as Record<string, string>;
  const appliedKey = JSON.stringify(applied);
  // what is typed but not yet applied (Enter or leaving the field applies it)
  const [draft, setDraft] = useState<Record<string, string>>(applied);
  useEffect(() => setDraft(JSON.parse(appliedKey) as Record<string, string>), [appliedKey]);
  // cursors of the pages before this one (Newer pops it)
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [outcome, setOutcome] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);

  const query = useMemo(() => {
    const search = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (statusParam) search.set('status', statusParam);
    for (const [name, value] of Object.entries(JSON.parse(appliedKey) as Record<string, string>)) if (value.trim()) search.set(name, value.trim());
    if (since) search.set('since', since);
    if (sort !== '-createdAt') search.set('sort', sort);
    return search.toString();
  }, [statusParam, appliedKey, since, sort]);

  const page = useResource<TaskPage>(
    (signal) => api.get<TaskPage>(`/api/tasks?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, signal),
    [api, query, cursor],
  );
  // names for the filters' suggestions and, for admins, the owners' emails
  const workers = useResource((signal) => api.get<{ workers: Worker[] }>('/api/workers', signal).then((r) => r.workers), [api]);
  const users = useResource(
    (signal) => (admin ? api.get<{ users: User[] }>('/api/users', signal).then((r) => r.users) : Promise.resolve([] as User[])),
    [api, admin],
  );
  const emailOf = useMemo(() => new Map((users.data ?? []).map((u) => [u.id, u.email])), [users.data]);

  // only statuses filter (and the default order): a new task can be placed without asking the API
  const addNew = Object.values(applied).every((v) => !v.trim()) && !since && sort === '-createdAt';
  const live = useEvents(
    useCallback(
      (message) => {
        if (message.type !== 'task') return;
        page.set((current) => (current ? applyTaskChange(current, message.task, { statuses, firstPage: cursors.length === 0, addNew }) : current));
      },
      // eslint-disable-next-line react-hooks/exhaustive-deps
      [statusParam, cursors.length, addNew],
    ),
  );

  const setParam = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value.trim()) next.set(name, value.trim());
      else next.delete(name);
    }
    setCursors([]);
    setSelected(new Set());
    setParams(next, { replace: true });
  };
  const applyDraft = (event?: FormEvent) => {
    event?.preventDefault();
    if (JSON.stringify(draft) !== appliedKey) setParam(draft);
  };
  const toggleStatus = (status: TaskStatus) => {
    const next = statuses.includes(status) ? statuses.filter((s) => s !== status) : [...statuses, status];
    setParam({ status: TASK_STATUSES.filter((s) => next.includes(s)).join(',') });
  };
  const filtered = Boolean(statusParam || since || Object.values(applied).some((v) => v.trim()));

  const tasks = page.data?.tasks ?? [];
  const cancellable = tasks.filter((t) => CANCELLABLE.has(t.status));
  const chosen = cancellable.filter((t) => selected.has(t.id));
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const toggleAll = () => setSelected(chosen.length === cancellable.length ? new Set() : new Set(cancellable.map((t) => t.id)));

  const cancelChosen = async () => {
    setCancelling(true);
    const results = await Promise.allSettled(chosen.map((t) => api.delete(`/api/tasks/${encodeURIComponent(t.id)}`)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${chosen[i]!.name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
    const done = results.length - failed.length;
    setOutcome(
      failed.length === 0
        ? { tone: 'ok', text: `Cancelled ${done} task${done === 1 ? '' : 's'}.` }
        : { tone: 'bad', text: `Cancelled ${done} of ${results.length}; not cancelled: ${failed.join('; ')}` },
    );
    setCancelling(false);
    setConfirming(false);
    setSelected(new Set());
    page.reload();
  };

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

      <form className="filters" onSubmit={applyDraft} aria-label="Task filters">
        <fieldset className="status-filter">
          <legend>Status</legend>
          {TASK_STATUSES.map((status) => (
            <label key={status}>
              <input type="checkbox" checked={statuses.includes(status)} onChange={() => toggleStatus(status)} />
              {status}
            </label>
          ))}
        </fieldset>
        {textFilters.map((filter) => (
          <div key={filter.param} className="field field-inline">
            <label htmlFor={`task-filter-${filter.param}`}>{filter.label}</label>
            <input
              id={`task-filter-${filter.param}`}
              type="search"
              placeholder={filter.placeholder}
              list={filter.param === 'worker' ? 'task-filter-workers' : undefined}
              value={draft[filter.param] ?? ''}
              onChange={(e) => setDraft((d) => ({ ...d, [filter.param]: e.target.value }))}
              onBlur={() => applyDraft()}
            />
          </div>
        ))}
        <datalist id="task-filter-workers">
          {(workers.data ?? []).map((w) => (
            <option key={w.id} value={w.name} />
          ))}
        </datalist>
        <div className="field field-inline">
          <label htmlFor="task-filter-since">Created</label>
          <select id="task-filter-since" value={since} onChange={(e) => setParam({ since: e.target.value })}>
            {SINCE_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="task-sort">Sort</label>
          <select id="task-sort" value={sort} onChange={(e) => setParam({ sort: e.target.value === '-createdAt' ? '' : e.target.value })}>
            {SORT_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn">
          Search
        </button>
        {filtered ? (
          <button type="button" className="btn" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        ) : null}
      </form>

      <div className="page-head task-total">
        <span className="muted" data-testid="task-total">
          {page.data?.total !== undefined ? `${page.data.total} task${page.data.total === 1 ? '' : 's'}${filtered ? ' match' : ''}` : ''}
        </span>
        <div className="actions">
          <button type="button" className="btn btn-danger" disabled={chosen.length === 0 || confirming} onClick={() => setConfirming(true)}>
            Cancel selected ({chosen.length})
          </button>
        </div>
      </div>
      {confirming ? (
        <div className="notice confirm" role="alertdialog" aria-label={`Cancel ${chosen.length} tasks?`}>
          <span>
            Cancel {chosen.length} task{chosen.length === 1 ? '' : 's'} ({chosen.map((t) => t.name).join(', ')})? Running ones are stopped; this cannot be undone.
          </span>
          <button type="button" className="btn btn-danger" disabled={cancelling || chosen.length === 0} onClick={() => void cancelChosen()}>
            Cancel {chosen.length === 1 ? 'task' : 'tasks'}
          </button>
          <button type="button" className="btn" disabled={cancelling} onClick={() => setConfirming(false)}>
            Keep them
          </button>
        </div>
      ) : null}
      {outcome ? (
        <p className={outcome.tone === 'ok' ? 'muted small' : 'notice'} role="status">
          {outcome.text}
        </p>
      ) : null}

      {page.loading && !page.data ? (
        <Loading what="Loading tasks" />
      ) : page.error ? (
        <ErrorBox error={page.error} retry={page.reload} />
      ) : tasks.length === 0 ? (
        <Empty>
          {filtered ? (
            'No tasks match these filters.'
          ) : (
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
                <th className="select-cell">
                  <input
                    type="checkbox"
                    aria-label="Select every task on this page that can be cancelled"
                    disabled={cancellable.length === 0}
                    checked={cancellable.length > 0 && chosen.length === cancellable.length}
                    onChange={toggleAll}
                  />
                </th>
                <th>Name</th>
                <th>Status</th>
                {admin ? <th className="hide-sm">Owner</th> : null}
                <th className="hide-sm">Worker</th>
                <th className="hide-sm">Attempts</th>
                <th>Duration</th>
                <th className="hide-sm">Created</th>
                <th className="hide-sm">Image</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((task) => {
                const reason = taskReason(task);
                const ran = between(task.startedAt, task.finishedAt);
                return (
                  <tr key={task.id} data-task={task.id} data-status={task.status}>
                    <td className="select-cell">
                      {CANCELLABLE.has(task.status) ? (
                        <input type="checkbox" aria-label={`Select ${task.name}`} checked={selected.has(task.id)} onChange={() => toggle(task.id)} />
                      ) : null}
                    </td>
                    <td>
                      <Link to={`/tasks/${encodeURIComponent(task.id)}`} className="strong" title={`task id ${task.id}`}>
                        {task.name}
                      </Link>
                      <div className="muted small mono ellipsis hide-sm" title={task.id}>
                        {task.id}
                      </div>
                      {task.dagId ? (
                        <div className="small">
                          <Link to={`/dags/${encodeURIComponent(task.dagId)}`}>DAG run{task.dagTask ? ` · ${task.dagTask}` : ''}</Link>
                        </div>
                      ) : null}
                    </td>
                    <td>
                      <StatusBadge status={task.status} />
                      {reason ? (
                        <div className={`small reason${task.status === 'failed' ? ' text-bad' : ' muted'}`} data-reason>
                          {reason}
                        </div>
                      ) : null}
                    </td>
                    {admin ? (
                      <td className="hide-sm small" title={task.userId}>
                        {emailOf.get(task.userId) ?? task.userId}
                      </td>
                    ) : null}
                    <td className="hide-sm small">
                      <WorkerName id={task.workerId} name={task.workerName} />
                    </td>
                    <td className="hide-sm">
                      {task.attemptCount ?? '–'}
                      {task.maxRetries > 0 ? <span className="muted small"> / {task.maxRetries + 1}</span> : null}
                    </td>
                    <td className="nowrap small">{ran === undefined ? '–' : `${formatDuration(ran)}${task.finishedAt ? '' : '…'}`}</td>
                    <td className="hide-sm nowrap small" title={task.createdAt}>
                      {formatTime(task.createdAt)}
                    </td>
                    <td className="hide-sm mono small ellipsis">{task.image || task.runtime}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <button type="button" className="btn" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous
        </button>
        <span className="muted small">
          Page {cursors.length + 1}
          {page.data?.total !== undefined ? ` of ${Math.max(1, Math.ceil(page.data.total / PAGE_SIZE))}` : ''}
        </span>
        <button
          type="button"
          className="btn"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            const next = page.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Next →
        </button>
      </div>
    </section>
  );
}
