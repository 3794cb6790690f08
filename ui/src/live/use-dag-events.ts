// DAG pages refresh from /ws/events: a status change of a task that belongs to a DAG run
// (`task.dagId`) calls `onChange` once per burst (debounced), and so does every (re)connection,
// since changes made while the socket was down were not seen.
import { useEffect, useRef } from 'react';
import { useEvents } from './use-events.ts';

export function useDagEvents(matches: (dagId: string) => boolean, onChange: () => void, debounceMs = 250) {
  const latest = useRef({ matches, onChange });
  latest.current = { matches, onChange };
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const soon = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current.onChange(), debounceMs);
  };
  return useEvents(
    (message) => {
      if (message.type === 'task' && message.task.dagId && latest.current.matches(message.task.dagId)) soon();
    },
    soon,
  );
}
