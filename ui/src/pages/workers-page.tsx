// Every worker: status, reserved against capacity as bars, live usage; for admins, how to join
// one (the join line and the join tokens).
import { Link } from 'react-router-dom';
import { ago, formatBytes, formatCpu, formatPercent } from '../api/format.ts';
import { ResourceBar } from '../components/resource-bar.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useAuth } from '../auth/auth.tsx';
import { useTelemetry } from '../live/use-telemetry.ts';
import { JoinPanel } from './join-panel.tsx';

export function WorkersPage() {
  const { user } = useAuth();
  const { workers, error, live, reload } = useTelemetry({ maxPoints: 2 });
  return (
    <section className="page">
      <div className="page-head">
        <h1>Workers</h1>
        <LiveIndicator {...live} />
      </div>
      {!workers ? (
        error ? (
          <ErrorBox error={error} retry={reload} />
        ) : (
          <Loading what="Loading workers" />
        )
      ) : workers.length === 0 ? (
        <Empty>No workers have joined yet.</Empty>
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
              {workers.map((w) => (
                <tr key={w.id} data-worker={w.id}>
                  <td>
                    <Link to={`/workers/${encodeURIComponent(w.id)}`} className="strong nowrap">
                      {w.name}
                    </Link>
                    <div className="muted small">
                      {w.hostname} · {w.runtimes.join(', ')}
                    </div>
                  </td>
                  <td>
                    <StatusBadge status={w.status} />
                    {!w.connected && w.status !== 'lost' ? <div className="muted small">disconnected</div> : null}
                  </td>
                  <td className="col-bars">
                    <ResourceBar label="CPU" used={w.reserved.cpu} total={w.capacity.cpu} format={formatCpu} />
                    <ResourceBar label="Memory" used={w.reserved.memory} total={w.capacity.memory} format={formatBytes} />
                    {w.capacity.gpu > 0 ? <ResourceBar label="GPU" used={w.reserved.gpu} total={w.capacity.gpu} format={String} /> : null}
                    <div className="show-sm muted small">
                      {w.usage ? `Using CPU ${formatPercent(w.usage.cpuPercent)} · memory ${formatPercent(w.usage.memoryPercent)}` : 'no usage sample yet'}
                    </div>
                  </td>
                  <td className="nowrap hide-sm">
                    {w.usage ? (
                      <>
                        <div>CPU {formatPercent(w.usage.cpuPercent)}</div>
                        <div>Mem {formatPercent(w.usage.memoryPercent)}</div>
                        <div className="muted small">Disk {formatPercent(w.usage.diskPercent)}</div>
                      </>
                    ) : (
                      <span className="muted">no sample yet</span>
                    )}
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
      {user?.role === 'admin' ? <JoinPanel /> : null}
    </section>
  );
}
