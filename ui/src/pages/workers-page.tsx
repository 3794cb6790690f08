// Every worker: status, labels, reserved against capacity as bars, usage — live for a
// connected worker, greyed and dated ("last seen 3 min ago") for a lost one, whose last sample
// is no longer news; sorting and filtering (by name, host, label, status); for admins, removing
// a lost worker (after a confirmation) and how to join one (the join line and the join tokens).
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ago, formatBytes, formatCpu, formatPercent } from '../api/format.ts';
import type { Worker, WorkerStatus } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import { ResourceBar } from '../components/resource-bar.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useTelemetry } from '../live/use-telemetry.ts';
import { JoinPanel } from './join-panel.tsx';

type SortKey = 'name' | 'status' | 'cpu' | 'tasks' | 'heartbeat';
const SORTS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'status', label: 'Status (lost first)' },
  { key: 'cpu', label: 'CPU reserved (most first)' },
  { key: 'tasks', label: 'Running tasks (most first)' },
  { key: 'heartbeat', label: 'Last heartbeat (oldest first)' },
];
const STATUS_ORDER: Record<WorkerStatus, number> = { lost: 0, draining: 1, ready: 2 };

/** A worker whose numbers are not live: lost, or its stream is gone. */
export const isStale = (w: Pick<Worker, 'status' | 'connected'>) => w.status === 'lost' || !w.connected;

/** Does the worker match the filter text: a word of its name, host, id, runtime, or a label (`key` or `key=value`)? */
export function matchesFilter(w: Worker, text: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  const haystack = [w.name, w.hostname, w.id, ...w.runtimes, ...Object.entries(w.labels).flatMap(([k, v]) => [k, `${k}=${v}`])].map((s) => s.toLowerCase());
  return words.every((word) => haystack.some((s) => s.includes(word)));
}

export function sortWorkers(workers: readonly Worker[], key: SortKey): Worker[] {
  const byName = (a: Worker, b: Worker) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  const compare: Record<SortKey, (a: Worker, b: Worker) => number> = {
    name: byName,
    status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byName(a, b),
    cpu: (a, b) => b.reserved.cpu / (b.capacity.cpu || 1) - a.reserved.cpu / (a.capacity.cpu || 1) || byName(a, b),
    tasks: (a, b) => b.runningTasks - a.runningTasks || byName(a, b),
    heartbeat: (a, b) => Date.parse(a.lastHeartbeatAt) - Date.parse(b.lastHeartbeatAt) || byName(a, b),
  };
  return [...workers].sort(compare[key]);
}

function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return null;
  return (
    <div className="worker-labels" data-testid="worker-labels">
      {entries.map(([k, v]) => (
        <span key={k} className="chip small">
          {k}={v}
        </span>
      ))}
    </div>
  );
}

function Usage({ worker: w, compact }: { worker: Worker; compact?: boolean }) {
  if (isStale(w)) {
    return (
      <div className="stale" data-testid="usage-stale" title={`Last heartbeat ${w.lastHeartbeatAt}; the numbers are its last sample, not live`}>
        <div className="small">last seen {ago(w.lastHeartbeatAt)}</div>
        {w.usage ? <div className="small">was CPU {formatPercent(w.usage.cpuPercent)} · mem {formatPercent(w.usage.memoryPercent)}</div> : null}
      </div>
    );
  }
  if (!w.usage) return <span className="muted">{compact ? 'no usage sample yet' : 'no sample yet'}</span>;
  if (compact) return <>Using CPU {formatPercent(w.usage.cpuPercent)} · memory {formatPercent(w.usage.memoryPercent)}</>;
  return (
    <>
      <div>CPU {formatPercent(w.usage.cpuPercent)}</div>
      <div>Mem {formatPercent(w.usage.memoryPercent)}</div>
      <div className="muted small">Disk {formatPercent(w.usage.diskPercent)}</div>
    </>
  );
}

export function WorkersPage() {
  const { user, api } = useAuth();
  const { workers, error, live, reload } = useTelemetry({ maxPoints: 2 });
  const [params, setParams] = useSearchParams();
  const filter = params.get('q') ?? '';
  const status = (params.get('status') ?? '') as WorkerStatus | '';
  const sort = (SORTS.some((s) => s.key === params.get('sort')) ? params.get('sort') : 'name') as SortKey;
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());

  const shown = useMemo(
    () => sortWorkers((workers ?? []).filter((w) => !removed.has(w.id) && (status === '' || w.status === status) && matchesFilter(w, filter)), sort),
    [workers, removed, status, filter, sort],
  );
  const admin = user?.role === 'admin';

  const remove = async (w: Worker) => {
    setBusy(true);
    setActionError(null);
    try {
      await api.delete(`/api/workers/${encodeURIComponent(w.id)}`);
      setRemoved((current) => new Set([...current, w.id]));
      setConfirming(null);
      reload();
    } catch (failure: unknown) {
      setActionError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page">
      <div className="page-head">
        <h1>Workers</h1>
        <LiveIndicator {...live} />
      </div>
      {actionError ? <ErrorBox error={actionError} /> : null}
      {!workers ? (
        error ? (
          <ErrorBox error={error} retry={reload} />
        ) : (
          <Loading what="Loading workers" />
        )
      ) : workers.length === 0 ? (
        <Empty>No workers have joined yet.</Empty>
      ) : (
        <>
          <div className="filters workers-filters">
            <div className="field field-inline">
              <label htmlFor="workers-filter">Filter</label>
              <input id="workers-filter" type="search" value={filter} placeholder="name, host, label or key=value" onChange={(e) => setParam('q', e.target.value)} />
            </div>
            <div className="field field-inline">
              <label htmlFor="workers-status">Status</label>
              <select id="workers-status" value={status} onChange={(e) => setParam('status', e.target.value)}>
                <option value="">any</option>
                <option value="ready">ready</option>
                <option value="draining">draining</option>
                <option value="lost">lost</option>
              </select>
            </div>
            <div className="field field-inline">
              <label htmlFor="workers-sort">Sort by</label>
              <select id="workers-sort" value={sort} onChange={(e) => setParam('sort', e.target.value === 'name' ? '' : e.target.value)}>
                {SORTS.map((s) => (
                  <option key={s.key} value={s.key}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
            <span className="muted small" data-testid="workers-count">
              {shown.length} of {workers.length - removed.size}
            </span>
          </div>
          {shown.length === 0 ? (
            <Empty>No worker matches the filter.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table workers-table">
                <thead>
                  <tr>
                    <th>Worker</th>
                    <th>Status</th>
                    <th className="col-bars">Reserved / capacity</th>
                    <th className="hide-sm">Usage</th>
                    <th className="hide-sm">Tasks</th>
                    <th className="hide-sm">Heartbeat</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((w) => (
                    <tr key={w.id} data-worker={w.id} className={isStale(w) ? 'row-stale' : undefined}>
                      <td>
                        <Link to={`/workers/${encodeURIComponent(w.id)}`} className="strong nowrap">
                          {w.name}
                        </Link>
                        <div className="muted small">
                          {w.hostname} · {w.runtimes.join(', ')}
                        </div>
                        <Labels labels={w.labels} />
                      </td>
                      <td>
                        <StatusBadge status={w.status} />
                        {!w.connected && w.status !== 'lost' ? <div className="muted small">disconnected</div> : null}
                        {admin && w.status === 'lost' ? (
                          confirming === w.id ? (
                            <div className="notice confirm small" role="alertdialog" aria-label={`Remove ${w.name}?`}>
                              <span>Remove {w.name}? It can come back only by joining again.</span>
                              <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => void remove(w)}>
                                Remove worker
                              </button>
                              <button type="button" className="btn btn-small" disabled={busy} onClick={() => setConfirming(null)}>
                                Cancel
                              </button>
                            </div>
                          ) : (
                            <div>
                              <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(w.id)} aria-label={`Remove ${w.name}`}>
                                Remove
                              </button>
                            </div>
                          )
                        ) : null}
                      </td>
                      <td className="col-bars">
                        <ResourceBar label="CPU" used={w.reserved.cpu} total={w.capacity.cpu} format={formatCpu} />
                        <ResourceBar label="Memory" used={w.reserved.memory} total={w.capacity.memory} format={formatBytes} />
                        {w.capacity.gpu > 0 ? <ResourceBar label="GPU" used={w.reserved.gpu} total={w.capacity.gpu} format={String} /> : null}
                        <div className="show-sm muted small">
                          <Usage worker={w} compact />
                        </div>
                      </td>
                      <td className="nowrap hide-sm">
                        <Usage worker={w} />
                      </td>
                      <td className="hide-sm">{w.runningTasks}</td>
                      <td className="hide-sm nowrap" title={w.lastHeartbeatAt}>
                        {ago(w.lastHeartbeatAt)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {admin ? <JoinPanel /> : null}
    </section>
  );
}
