// The gang step of a scheduling pass (dispatch-system.ts calls it first): the queued members of
// gangs are taken out of the plain planner's streams and placed by the pure gang step
// (scheduler/gang-placement.ts), every member of a gang or none; the plain planner then sees the
// workers with the gangs' placements reserved. A gang is tried only when all its members are
// queued: one still assigned, running or being stopped (a restart under way) holds it back, and
// its reason says so (the gang service re-queues stopped members only once their attempts ended).
import type { Task } from '../../records/task.js';
import { planGangPlacements, type GangPlan, type GangSnapshot } from '../../scheduler/gang-placement.js';
import type { SchedulingPolicy, TaskSnapshot, TaskStream, WorkerSnapshot } from '../../scheduler/placement.js';
import type { UsageView } from '../../scheduler/usage.js';
import type { QueueEntry, TaskState } from '../task-state.js';

export interface GangStep {
  /** the plain planner's streams, without gang members */
  streams: TaskStream[];
  plan: GangPlan;
}

/** Splits the queue into gangs and plain streams and plans the gangs. */
export function planGangStep(state: TaskState, workers: readonly WorkerSnapshot[], policy: SchedulingPolicy, usage: UsageView, heldWorkers: ReadonlySet<string>): GangStep {
  const gangs = new Map<string, { queue: string; userId: string; size: number; members: QueueEntry[]; seq: number }>();
  for (const id of state.queuedGangMembers) {
    const entry = state.queue.get(id);
    if (!entry || entry.gangId === undefined) {
      state.queuedGangMembers.delete(id);
      continue;
    }
    let gang = gangs.get(entry.gangId);
    if (!gang) gangs.set(entry.gangId, (gang = { queue: entry.queue, userId: entry.userId, size: entry.gangSize ?? 0, members: [], seq: entry.seq }));
    gang.members.push(entry);
    gang.seq = Math.min(gang.seq, entry.seq);
  }
  // the plain planner reads its streams lazily, as before gangs; gang members are skipped
  const streams: TaskStream[] = state.queue.streams().map((stream) => ({
    queue: stream.queue,
    userId: stream.userId,
    tasks: gangs.size === 0 ? stream.tasks.ordered() : withoutGangMembers(stream.tasks.ordered()),
  }));
  if (gangs.size === 0) return { streams, plan: { placements: [], waiting: new Map(), placedGangs: [], workers: [...workers] } };
  // members of the queued gangs that are live and not queued (still running or being stopped)
  const busy = new Map<string, Task[]>();
  for (const task of state.tasks.values()) {
    if (task.gangId === undefined || task.status === 'queued' || !gangs.has(task.gangId)) continue;
    busy.set(task.gangId, [...(busy.get(task.gangId) ?? []), task]);
  }
  const snapshots: GangSnapshot[] = [...gangs.entries()]
    .sort(([, a], [, b]) => a.seq - b.seq)
    .map(([gangId, gang]) => {
      const members = [...gang.members].sort((a, b) => (a.gangRank ?? 0) - (b.gangRank ?? 0));
      const live = busy.get(gangId);
      const heldBack = live
        ? `member ${live[0]!.gangRank ?? '?'} is still ${live[0]!.status}${live[0]!.workerId ? ` on ${live[0]!.workerId}` : ''}; the gang is placed when every member is queued`
        : undefined;
      return { gangId, queue: gang.queue, userId: gang.userId, size: gang.size, members, heldBack };
    });
  return { streams, plan: planGangPlacements({ gangs: snapshots, workers, policy, usage, heldWorkers }) };
}

function* withoutGangMembers(entries: Iterable<QueueEntry>): Generator<QueueEntry> {
  for (const entry of entries) if (entry.gangId === undefined) yield entry;
}
