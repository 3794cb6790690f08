// Gang placement: all of a gang's members in one pass, or none of them. Pure, like placement.ts:
// a snapshot in (the gangs whose members wait, the workers with their reserved resources, the
// queues' caps and what is in use), a plan out. The dispatch system runs it before the plain
// planner and hands that planner the workers with the gangs' placements added to their reserved
// resources (tasks/systems/dispatch-system.ts), so one pass never overfills a worker.
//
// A gang is placed only when every member waits in the queue (a member still stopping after a
// restart holds the gang back). Its queue's caps, its user's caps in that queue and across
// queues are checked for the whole gang at once (n tasks, the sum of their resources). Members
// are placed in rank order; each goes to a worker that offers its runtime, has its labels and
// the queue's worker selector, matches the constraints, is its pinned worker when pinned, is
// not held by a reservation of the plain planner, and has room left after the gang's earlier
// members — among those, the one holding the fewest members of this gang (spread, so a DDP job
// gets one process per machine when it can), then the first in the workers' order. A greedy
// walk: it may miss a packing a search would find (say so in the docs). When a member finds no
// worker, nothing of the gang is placed and every member waits with the gang's reason:
// `gang <id>: 2 of 3 members fit (member 2: no matching worker has room left: w-3 lacks memory)`.
// Gangs hold no reservation and preempt nothing: plain tasks may fill the room a gang waits for
// (its timeout bounds the wait).
import { formatBytes } from '@wharf/proto';
import type { LabelConstraint } from '../records/queue.js';
import type { Resources } from '../records/resources.js';
import { matchesConstraints } from './constraints.js';
import { addResources, explainWaiting, fitsIn, freeResources, hasLabels, type Placement, type QueuePolicy, type SchedulingPolicy, type TaskSnapshot, type WorkerSnapshot } from './placement.js';
import { addUsage, NO_USAGE, type Usage, type UsageView } from './usage.js';

export interface GangSnapshot {
  gangId: string;
  /** every member has the same queue and owner */
  queue: string;
  userId: string;
  size: number;
  /** the members waiting in the queue, in rank order (fewer than `size`: the gang is held back) */
  members: readonly TaskSnapshot[];
  /** why the gang cannot be placed whatever the room (e.g. members still stopping); undefined: try */
  heldBack?: string | undefined;
}

export interface GangSchedulingSnapshot {
  /** oldest first: an older gang is tried first */
  gangs: readonly GangSnapshot[];
  workers: readonly WorkerSnapshot[];
  policy?: SchedulingPolicy | undefined;
  usage?: UsageView | undefined;
  /** workers the plain planner holds for one of its reservations (no gang member goes there) */
  heldWorkers?: ReadonlySet<string> | undefined;
}

export interface GangPlan {
  /** the placements of the gangs placed whole, rank order within a gang */
  placements: Placement[];
  /** why each member of a gang not placed waits (the gang's reason) */
  waiting: Map<string, string>;
  /** the gangs placed whole in this plan */
  placedGangs: string[];
  /** the workers as the rest of the pass should see them: the gangs' placements reserved */
  workers: WorkerSnapshot[];
}

const DIMENSIONS = ['cpu', 'memory', 'gpu', 'disk'] as const;
const ROUND_ROBIN: QueuePolicy = { strategy: 'round-robin', workerSelector: {}, constraints: [] };

type Caps = { maxRunning?: number | undefined; maxCpu?: number | undefined; maxMemory?: number | undefined; maxGpus?: number | undefined };

/** The first cap the gang (n tasks asking `ask` in all) would go past, in words; undefined when none. */
function gangOverCap(live: Readonly<Usage>, planned: Readonly<Usage>, ask: Usage, caps: Caps): string | undefined {
  const count = live.count + planned.count;
  if (caps.maxRunning !== undefined && count + ask.count > caps.maxRunning) return `${count}/${caps.maxRunning} running tasks, the gang needs ${ask.count}`;
  const cpu = live.cpu + planned.cpu;
  if (caps.maxCpu !== undefined && cpu + ask.cpu > caps.maxCpu + 1e-9) return `${Number(cpu.toFixed(3))}/${caps.maxCpu} cpu in use, the gang asks for ${Number(ask.cpu.toFixed(3))}`;
  const memory = live.memory + planned.memory;
  if (caps.maxMemory !== undefined && memory + ask.memory > caps.maxMemory) {
    return `${formatBytes(memory)}/${formatBytes(caps.maxMemory)} memory in use, the gang asks for ${formatBytes(ask.memory)}`;
  }
  const gpu = live.gpu + planned.gpu;
  if (caps.maxGpus !== undefined && gpu + ask.gpu > caps.maxGpus) return `${gpu}/${caps.maxGpus} gpus in use, the gang asks for ${ask.gpu}`;
  return undefined;
}

function isEmpty(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return false;
  return true;
}

export function planGangPlacements(snapshot: GangSchedulingSnapshot): GangPlan {
  const workers = snapshot.workers.map((w) => ({ ...w, reserved: { ...w.reserved } }));
  const ready = workers.filter((w) => w.status === 'ready' && !(snapshot.heldWorkers?.has(w.id) ?? false));
  const placements: Placement[] = [];
  const waiting = new Map<string, string>();
  const placedGangs: string[] = [];
  const plannedByQueue = new Map<string, Usage>();
  const plannedByUserQueue = new Map<string, Usage>();
  const plannedByUser = new Map<string, Usage>();
  const plannedOf = (map: Map<string, Usage>, key: string): Usage => {
    let planned = map.get(key);
    if (!planned) map.set(key, (planned = { ...NO_USAGE }));
    return planned;
  };
  const { policy, usage } = snapshot;

  for (const gang of snapshot.gangs) {
    const wait = (reason: string): void => {
      for (const member of gang.members) waiting.set(member.id, `gang ${gang.gangId}: ${reason}`);
    };
    if (gang.heldBack !== undefined) {
      wait(gang.heldBack);
      continue;
    }
    if (gang.members.length < gang.size) {
      wait(`${gang.members.length} of ${gang.size} members are queued; waiting for the others to stop`);
      continue;
    }
    const queue = policy?.queue(gang.queue) ?? ROUND_ROBIN;
    // the caps, for the whole gang at once
    const ask: Usage = { ...NO_USAGE };
    for (const member of gang.members) addUsage(ask, member.resources, 1);
    const userKey = `${gang.queue}\u0000${gang.userId}`;
    const inQueue = policy?.userInQueue(gang.queue, gang.userId);
    const global = policy?.user(gang.userId);
    const checks: { caps: Caps; live: Readonly<Usage>; planned: Usage; prefix: string; suffix: string }[] = [
      {
        caps: { maxRunning: queue.maxConcurrency, maxCpu: queue.maxCpu, maxMemory: queue.maxMemory, maxGpus: queue.maxGpus },
        live: usage?.queue(gang.queue) ?? NO_USAGE,
        planned: plannedOf(plannedByQueue, gang.queue),
        prefix: `queue ${gang.queue}: `,
        suffix: '',
      },
    ];
    if (inQueue) checks.push({ caps: inQueue, live: usage?.userInQueue(gang.queue, gang.userId) ?? NO_USAGE, planned: plannedOf(plannedByUserQueue, userKey), prefix: `user ${policy!.userLabel(gang.userId)}: `, suffix: ` in queue ${gang.queue}` });
    if (global) checks.push({ caps: global, live: usage?.user(gang.userId) ?? NO_USAGE, planned: plannedOf(plannedByUser, gang.userId), prefix: `user ${policy!.userLabel(gang.userId)}: `, suffix: ' in all queues' });
    const capped = checks.map((check) => {
      const over = gangOverCap(check.live, check.planned, ask, check.caps);
      return over === undefined ? undefined : `${check.prefix}${over}${check.suffix}`;
    }).find((reason) => reason !== undefined);
    if (capped !== undefined) {
      wait(capped);
      continue;
    }

    // members in rank order, each on the eligible worker with room that holds the fewest of the gang
    const free = new Map(ready.map((w) => [w.id, freeResources(w)]));
    const held = new Map<string, number>();
    const chosen: Placement[] = [];
    let missing: string | undefined;
    for (const member of gang.members) {
      const constraints: LabelConstraint[] = [...queue.constraints, ...(member.constraints ?? [])];
      const matching = ready.filter(
        (w) =>
          w.runtimes.includes(member.runtime) &&
          hasLabels(w, member.labels) &&
          (isEmpty(queue.workerSelector) || hasLabels(w, queue.workerSelector)) &&
          matchesConstraints(w.labels, constraints) &&
          (member.pinnedWorkerId === undefined || w.id === member.pinnedWorkerId),
      );
      let best: WorkerSnapshot | undefined;
      for (const worker of matching) {
        if (!fitsIn(member.resources, free.get(worker.id)!)) continue;
        if (!best || (held.get(worker.id) ?? 0) < (held.get(best.id) ?? 0)) best = worker;
      }
      if (!best) {
        missing = explainMember(member, matching, free, snapshot.workers, queue);
        break;
      }
      free.set(best.id, addResources(free.get(best.id)!, member.resources, -1));
      held.set(best.id, (held.get(best.id) ?? 0) + 1);
      chosen.push({ taskId: member.id, workerId: best.id });
    }
    if (missing !== undefined) {
      wait(`${chosen.length} of ${gang.size} members fit (member ${chosen.length}: ${missing})`);
      continue;
    }
    // placed whole: the room is taken for the rest of the pass (`ready` shares the copies), the caps charged
    for (const placement of chosen) {
      const worker = workers.find((w) => w.id === placement.workerId)!;
      const member = gang.members.find((m) => m.id === placement.taskId)!;
      worker.reserved = addResources(worker.reserved, member.resources);
    }
    for (const check of checks) for (const member of gang.members) addUsage(check.planned, member.resources, 1);
    placements.push(...chosen);
    placedGangs.push(gang.gangId);
  }
  return { placements, waiting, placedGangs, workers };
}

/** Why one member found no worker: the plain planner's reason, with the room each matching worker lacks. */
function explainMember(member: TaskSnapshot, matching: readonly WorkerSnapshot[], free: ReadonlyMap<string, Resources>, all: readonly WorkerSnapshot[], queue: QueuePolicy): string {
  if (matching.length === 0) return explainWaiting(member, all, queue);
  const lacks = matching.slice(0, 3).map((w) => {
    const room = free.get(w.id)!;
    const short = DIMENSIONS.filter((d) => member.resources[d] > room[d] + 1e-9);
    return `${w.id} lacks ${short.join(' and ')}`;
  });
  return `no matching worker has room left: ${lacks.join(', ')}${matching.length > 3 ? ', …' : ''}`;
}
