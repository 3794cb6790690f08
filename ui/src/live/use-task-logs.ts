// A task's log over /ws/tasks/:id/logs: stored lines first, then live ones, then `complete`.
// Lines go into a LogBuffer; React hears about them at most every 50 ms.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LogMessage, TaskStatus } from '../api/types.ts';
import { LogBuffer } from './log-buffer.ts';
import { useLiveSocket } from './use-live-socket.ts';

/**
 * Runs fn soon, at most ~20 times a second. A timer rather than requestAnimationFrame: a frame
 * callback never runs while the tab is hidden (or in a headless browser that draws nothing),
 * and the lines must still be counted there.
 */
const soon = (fn: () => void): (() => void) => {
  const id = setTimeout(fn, 50);
  return () => clearTimeout(id);
};

export function useTaskLogs(taskId: string) {
  const buffer = useRef(new LogBuffer());
  const [version, setVersion] = useState(0);
  const [complete, setComplete] = useState<{ status: TaskStatus; exitCode: number | null } | null>(null);
  const cancelFrame = useRef<(() => void) | null>(null);

  const bump = useCallback(() => {
    if (cancelFrame.current) return;
    cancelFrame.current = soon(() => {
      cancelFrame.current = null;
      setVersion((v) => v + 1);
    });
  }, []);
  useEffect(
    () => () => {
      cancelFrame.current?.();
      cancelFrame.current = null;
    },
    [],
  );

  // characters received so far per attempt and stream, and how many of them a reconnection
  // (after a drop or a `lagged` close) must skip: every connection replays the stored log
  // from the start, in order and without gaps, so the page resumes where it was
  const received = useRef(new Map<string, number>());
  const toSkip = useRef(new Map<string, number>());

  useEffect(() => {
    buffer.current.reset();
    received.current.clear();
    toSkip.current.clear();
    setComplete(null);
    bump();
  }, [taskId, bump]);

  const live = useLiveSocket<LogMessage>({
    path: `/ws/tasks/${encodeURIComponent(taskId)}/logs`,
    stopOnNormalClose: true,
    onOpen: () => {
      toSkip.current = new Map(received.current);
    },
    onMessage: (message) => {
      if (message.type === 'log') {
        const key = `${message.attemptId}\u0000${message.stream}`;
        let data = message.data;
        const skip = toSkip.current.get(key) ?? 0;
        if (skip > 0) {
          toSkip.current.set(key, Math.max(0, skip - data.length));
          if (skip >= data.length) return;
          data = data.slice(skip);
        }
        received.current.set(key, (received.current.get(key) ?? 0) + data.length);
        buffer.current.append(message.attemptId, message.attempt, message.stream, data, message.ts);
        bump();
      } else if (message.type === 'complete') {
        setComplete({ status: message.status, exitCode: message.exitCode });
      }
    },
  });

  return { buffer: buffer.current, version, complete, live };
}
