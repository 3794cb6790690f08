// The cluster at a glance: workers by status, tasks by state, queue depth, and a live CPU /
// memory chart per worker from /ws/telemetry.
import { Link } from 'react-router-dom';
import { TASK_STATUSES } from '../api/types.ts';
import { formatPercent } from '../api/format.ts';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { UsageChart } from '../components/usage-chart.tsx';
import { useEvents } from '../live/use-events.ts';
import { useTaskCounts } from '../live/use-task-counts.ts';
import { useTelemetry } from '../live/use-telemetry.ts';

function Stat({ label, value, tone, to }: { label: string; value: string | number; tone?: string; to?: string }) {
  const body = (
    <>
      <span className="stat-value">{value}</span>
      <span className="stat-label">{label}</span>
    </>
  );
  return to ? (
    <Link to={to} className={`stat stat-link${tone ? ` stat-${tone}` : ''}`}>
      {body}
    </Link>
  ) : (
    <div className={`stat${tone ? ` stat-${tone}` : ''}`}>{body}</div>
  );
}

export function DashboardPage() {
  const telemetry = useTelemetry({ maxPoints: 240 });
  const tasks = useTaskCounts();
  useEvents((message) => {
    if (message.type === 'task') tasks.refresh();
  }, tasks.refresh);

  const workers = telemetry.workers;
  const byStatus = { ready: 0, draining: 0, lost: 0 };
  for (const worker of workers ?? []) byStatus[worker.status] += 1;
  const show = (status: (typeof TASK_STATUSES)[number]) => tasks.counts?.[status] ?? '…';

  return (
    <section className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
        <LiveIndicator {...telemetry.live} />
      </div>

      <h2 className="section-title">Workers</h2>
      {telemetry.error && !workers ? (
        <ErrorBox error={telemetry.error} retry={telemetry.reload} />
      ) : (
        <div className="stats">
          <Stat label="ready" value={workers ? byStatus.ready : '…'} tone="ok" to="/workers" />
          <Stat label="draining" value={workers ? byStatus.draining : '…'} tone="warn" to="/workers" />
          <Stat label="lost" value={workers ? byStatus.lost : '…'} tone="bad" to="/workers" />
        </div>
      )}

      <h2 className="section-title">Tasks</h2>
      {tasks.error && !tasks.counts ? (
        <ErrorBox error={tasks.error} retry={tasks.refresh} />
      ) : (
        <div className="stats stats-tasks">
          <Stat label="queue depth" value={show('queued')} tone="accent" to="/tasks?status=queued" />
          {TASK_STATUSES.filter((s) => s !== 'queued').map((status) => (
            <Stat key={status} label={status} value={show(status)} tone={status} to={`/tasks?status=${status}`} />
          ))}
        </div>
      )}

      <h2 className="section-title">Live usage</h2>
      {!workers ? (
        telemetry.error ? null : <Loading what="Loading workers" />
      ) : workers.length === 0 ? (
        <Empty>
          No workers have joined yet. Start one with <code>./runWorker.sh --master &lt;host&gt;:50051 --token &lt;join token&gt;</code>.
        </Empty>
      ) : (
        <div className="chart-grid">
          {workers.map((worker) => (
            <article key={worker.id} className="card chart-card" data-worker={worker.id}>
              <header className="chart-card-head">
                <Link to={`/workers/${encodeURIComponent(worker.id)}`} className="strong">
                  {worker.name}
                </Link>
                <StatusBadge status={worker.status} />
                <span className="muted small chart-now">
                  CPU {formatPercent(worker.usage?.cpuPercent)} · Mem {formatPercent(worker.usage?.memoryPercent)} · {worker.runningTasks}{' '}
                  running
                </span>
              </header>
              <UsageChart points={telemetry.history[worker.id] ?? []} label={`CPU and memory of ${worker.name}`} />
            </article>
          ))}
        </div>
      )}
    </section>
  );
}
