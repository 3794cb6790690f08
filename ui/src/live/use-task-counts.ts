// Tasks per status for the dashboard, from one GET /api/tasks/counts (the caller's tasks; every
// task for an admin), exact. Refreshed (at most once a second) whenever /ws/events reports a
// task change.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TaskCountsAnswer, TaskStatus } from '../api/types.ts';
import { useAuth } from '../auth/auth.tsx';

export function useTaskCounts(): {
  counts: Record<TaskStatus, number> | undefined;
  error: Error | undefined;
  refresh: () => void;
} {
  const { api } = useAuth();
  const [counts, setCounts] = useState<Record<TaskStatus, number> | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastRun = useRef(0);

  const load = useCallback(async () => {
    lastRun.current = Date.now();
    try {
      const answer = await api.get<TaskCountsAnswer>('/api/tasks/counts');
      setCounts(answer.counts);
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
