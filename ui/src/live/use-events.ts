// /ws/events: task status changes (the caller's tasks; every task for an admin) and, for
// admins, worker joins and status changes.
import type { EventsMessage } from '../api/types.ts';
import { useLiveSocket } from './use-live-socket.ts';

export function useEvents(onMessage: (message: EventsMessage) => void, onOpen?: () => void) {
  return useLiveSocket<EventsMessage>({ path: '/ws/events', onMessage, ...(onOpen ? { onOpen } : {}) });
}
