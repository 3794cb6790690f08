// Tasks per status for the dashboard, counted from GET /api/tasks?status=… (the caller's tasks;
// every task for an admin). A status with more than 500 tasks shows as "500+": the API has no
// count route, and the dashboard says so rather than guessing. Refreshed (at most once a
// second) whenever /ws/events reports a task change.
import { useCallback, useEffect, useRef, useState } from 'react';
import { TASK_STATUSES, type Task, type TaskStatus } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';

export const COUNT_LIMIT = 500;

export interface TaskCount {
  count: number;
  more: boolean;
}

export function useTaskCounts(): {
  counts: Record<TaskStatus, TaskCount> | undefined;
  error: Error | undefined;
  refresh: () => void;
} {
  const { api } = useAuth();
  const [counts, setCounts] = useState<Record<TaskStatus, TaskCount> | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastRun = useRef(0);

  const load = useCallback(async () => {
    lastRun.current = Date.now();
    try {
      const pages = await Promise.all(
        TASK_STATUSES.map((status) => api.get<{ tasks: Task[]; nextCursor: string | null }>(`/api/tasks?status=${status}&limit=${COUNT_LIMIT}`)),
      );
      const next = {} as Record<TaskStatus, TaskCount>;
      TASK_STATUSES.forEach((status, index) => {
        const page = pages[index];
        next[status] = { count: page?.tasks.length ?? 0, more: Boolean(page?.nextCursor) };
      });
      setCounts(next);
      setError(undefined);
    } catch (failure: unknown) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    }
  }, [api]);

  useEffect(() => {
    void load();
    return () => clearTimeout(pending.current);
  }, [load]);

  const refresh = useCallback(() => {
    if (pending.current) return;
    const wait = Math.max(0, 1000 - (Date.now() - lastRun.current));
    pending.current = setTimeout(() => {
      pending.current = undefined;
      void load();
    }, wait);
  }, [load]);

  return { counts, error, refresh };
}
