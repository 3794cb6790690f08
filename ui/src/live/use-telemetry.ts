// Workers as they are now and a short history of their usage: the REST list first (so the
// page has something at once), then /ws/telemetry keeps both current. History is seeded from
// GET /api/workers/:id/metrics so a chart is not empty when the page opens.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { MetricsSample, Worker, WorkerMetrics, WorkerTelemetry, TelemetryMessage } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';
import type { UsagePoint } from '../components/usage-chart.tsx';
import { useLiveSocket, type LiveState } from './use-live-socket.ts';

export type LiveWorker = Worker & Partial<Pick<WorkerTelemetry, 'running' | 'at'>>;

export function pointFromTelemetry(worker: WorkerTelemetry | Worker): UsagePoint | undefined {
  const at = 'at' in worker && worker.at ? worker.at : worker.lastHeartbeatAt;
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return undefined;
  return {
    t,
    cpu: worker.usage?.cpuPercent ?? null,
    memory: worker.usage?.memoryPercent ?? null,
    disk: worker.usage?.diskPercent ?? null,
    tasks: worker.runningTasks,
  };
}

export function pointFromSample(sample: MetricsSample): UsagePoint {
  return {
    t: Date.parse(sample.at),
    cpu: sample.cpuPercent,
    memory: sample.memoryPercent,
    disk: sample.diskPercent,
    tasks: sample.runningTasks,
  };
}

/** Appends a point unless it is not newer than the last one; keeps at most `max`. */
export function appendPoint(points: UsagePoint[], point: UsagePoint, max: number): UsagePoint[] {
  const last = points[points.length - 1];
  if (last && point.t <= last.t) return points;
  const next = points.length >= max ? points.slice(points.length - max + 1) : points.slice();
  next.push(point);
  return next;
}

export interface Telemetry {
  workers: LiveWorker[] | undefined;
  history: Record<string, UsagePoint[]>;
  error: Error | undefined;
  live: { state: LiveState; problem: string | null };
  reload: () => void;
}

export function useTelemetry({ workerId, maxPoints = 360 }: { workerId?: string; maxPoints?: number } = {}): Telemetry {
  const { api } = useAuth();
  const [workers, setWorkers] = useState<LiveWorker[] | undefined>(undefined);
  const [history, setHistory] = useState<Record<string, UsagePoint[]>>({});
  const [error, setError] = useState<Error | undefined>(undefined);
  const [generation, setGeneration] = useState(0);
  const seeded = useRef(new Set<string>());

  const seed = useCallback(
    (id: string) => {
      if (seeded.current.has(id)) return;
      seeded.current.add(id);
      api.get<WorkerMetrics>(`/api/workers/${encodeURIComponent(id)}/metrics`).then(
        (metrics) => {
          const past = metrics.samples.map(pointFromSample).filter((p) => Number.isFinite(p.t));
          setHistory((current) => {
            const now = current[id] ?? [];
            const lastPast = past[past.length - 1]?.t ?? -Infinity;
            return { ...current, [id]: [...past, ...now.filter((p) => p.t > lastPast)].slice(-maxPoints) };
          });
        },
        () => seeded.current.delete(id),
      );
    },
    [api, maxPoints],
  );

  useEffect(() => {
    const controller = new AbortController();
    const path = workerId ? `/api/workers/${encodeURIComponent(workerId)}` : '/api/workers';
    api.get<{ workers?: Worker[]; worker?: Worker }>(path, controller.signal).then(
      (answer) => {
        const list = answer.workers ?? (answer.worker ? [answer.worker] : []);
        setWorkers((current) => current ?? list);
        setError(undefined);
        for (const worker of list) seed(worker.id);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
    return () => controller.abort();
  }, [api, workerId, seed, generation]);

  // telemetry arrives once per heartbeat per worker; React hears of it at most every 250 ms
  const pending = useRef(new Map<string, WorkerTelemetry[]>());
  const flushTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(flushTimer.current), []);

  const flush = useCallback(() => {
    flushTimer.current = undefined;
    const batch = [...pending.current.values()];
    pending.current.clear();
    if (batch.length === 0) return;
    const latest = batch.map((updates) => updates[updates.length - 1]!);
    setWorkers((current) => {
      const byId = new Map((current ?? []).map((w) => [w.id, w] as const));
      for (const worker of latest) byId.set(worker.id, worker);
      return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    });
    setHistory((current) => {
      const next = { ...current };
      for (const updates of batch) {
        for (const worker of updates) {
          const point = pointFromTelemetry(worker);
          if (point) next[worker.id] = appendPoint(next[worker.id] ?? [], point, maxPoints);
        }
      }
      return next;
    });
    for (const worker of latest) seed(worker.id);
  }, [maxPoints, seed]);

  const take = useCallback(
    (update: WorkerTelemetry[], now = false) => {
      for (const worker of update) {
        const list = pending.current.get(worker.id);
        if (list) list.push(worker);
        else pending.current.set(worker.id, [worker]);
      }
      if (now) {
        clearTimeout(flushTimer.current);
        flush();
      } else flushTimer.current ??= setTimeout(flush, 250);
    },
    [flush],
  );

  const live = useLiveSocket<TelemetryMessage>({
    path: workerId ? `/ws/telemetry/${encodeURIComponent(workerId)}` : '/ws/telemetry',
    onMessage: (message) => {
      if (message.type === 'snapshot') {
        take(message.workers, true);
        setError(undefined);
      } else if (message.type === 'telemetry') take([message.worker]);
    },
  });

  return { workers, history, error, live, reload: () => setGeneration((g) => g + 1) };
}
