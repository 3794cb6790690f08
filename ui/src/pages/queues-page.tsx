// The queues (GET /api/queues): what each holds and uses against its caps, how its tasks are
// placed, and — for admins — each user's tasks, dominant share and fair-share weight (a user
// sees their own line). Refreshes when tasks change (the events WebSocket), at most every 2 s.
import { useEffect, useRef } from 'react';
import { formatBytes, formatCpu } from '../api/format.ts';
import type { Queue } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { useAuth } from '../auth/auth.tsx';
import { ResourceBar } from '../components/resource-bar.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { useEvents } from '../live/use-events.ts';

function Cap({ label, used, cap, format }: { label: string; used: number; cap: number | null; format: (n: number) => string }) {
  if (cap === null) {
    return (
      <div className="muted small">
        {label} {format(used)} <span title="no cap">(no cap)</span>
      </div>
    );
  }
  return <ResourceBar label={label} used={used} total={cap} format={format} />;
}

function selectorText(q: Queue): string {
  const parts = [
    ...Object.entries(q.workerSelector).map(([k, v]) => `${k}=${v}`),
    ...q.constraints.map((c) => `${c.key} ${c.op}${c.values ? ` ${c.values.join(',')}` : ''}`),
  ];
  return parts.length > 0 ? parts.join('; ') : 'any worker';
}

export function QueuesPage() {
  const { api } = useAuth();
  const list = useResource<Queue[]>(async (signal) => (await api.get<{ queues: Queue[] }>('/api/queues', signal)).queues, [api]);
  const lastReload = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  const live = useEvents(() => {
    if (pending.current !== undefined) return;
    const wait = Math.max(0, lastReload.current + 2000 - Date.now());
    pending.current = setTimeout(() => {
      pending.current = undefined;
      lastReload.current = Date.now();
      list.reload();
    }, wait);
  });
  const queues = list.data;
  return (
    <section className="page">
      <div className="page-head">
        <h1>Queues</h1>
        <LiveIndicator {...live} />
      </div>
      {!queues ? (
        list.error ? (
          <ErrorBox error={list.error} retry={list.reload} />
        ) : (
          <Loading what="Loading queues" />
        )
      ) : queues.length === 0 ? (
        <Empty>No queues.</Empty>
      ) : (
        queues.map((q) => (
          <div className="card" key={q.name} id={q.name} data-queue={q.name}>
            <h2 className="card-title">
              {q.name} <span className="muted small">{q.description ?? ''}</span>
            </h2>
            <div className="grid-2">
              <div>
                <Cap label="Running" used={q.usage.running} cap={q.maxConcurrency} format={String} />
                <Cap label="CPU" used={q.usage.cpu} cap={q.maxCpu} format={formatCpu} />
                <Cap label="Memory" used={q.usage.memory} cap={q.maxMemory} format={formatBytes} />
                <Cap label="GPU" used={q.usage.gpu} cap={q.maxGpus} format={String} />
                <Cap label="Tasks" used={q.usage.queued + q.usage.running} cap={q.maxTasks} format={String} />
              </div>
              <dl className="kv">
                <dt>Queued</dt>
                <dd data-testid="queue-queued">{q.usage.queued}</dd>
                <dt>Strategy</dt>
                <dd>{q.strategy}</dd>
                <dt>Priority</dt>
                <dd>{q.defaultPriority} by default</dd>
                <dt>Preemption</dt>
                <dd>{q.preemptionPolicy}</dd>
                <dt>Workers</dt>
                <dd className="mono wrap">{selectorText(q)}</dd>
              </dl>
            </div>
            {q.users.length > 0 ? (
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th>User</th>
                      <th>Queued</th>
                      <th>Running</th>
                      <th className="hide-sm">CPU</th>
                      <th className="hide-sm">Memory</th>
                      <th className="hide-sm">GPU</th>
                      <th>Fair share</th>
                      <th>Weight</th>
                    </tr>
                  </thead>
                  <tbody>
                    {q.users.map((u) => (
                      <tr key={u.userId} data-user={u.user}>
                        <td>{u.user}</td>
                        <td>{u.queued}</td>
                        <td>{u.running}</td>
                        <td className="hide-sm">{formatCpu(u.cpu)}</td>
                        <td className="hide-sm">{formatBytes(u.memory)}</td>
                        <td className="hide-sm">{u.gpu}</td>
                        <td title="the largest fraction of the cluster's cpu, memory or gpus their running tasks in this queue use">{(u.share * 100).toFixed(1)}%</td>
                        <td>{u.weight}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p className="muted small">No tasks in this queue.</p>
            )}
          </div>
        ))
      )}
    </section>
  );
}
