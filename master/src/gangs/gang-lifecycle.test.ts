import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { QueueCatalog } from '../queues/queue-catalog.js';
import { defaultQueueRecord } from '../records/queue.js';
import type { NewTask } from '../records/task.js';
import { HARNESS_USER, TaskHarness } from '../tasks/testing/harness.js';
import type { NewGang } from './gang-input.js';
import { GangService } from './gang-service.js';

const member = (over: Partial<NewTask> = {}): NewTask => ({
  name: 'ddp',
  image: 'wharf/busybox:latest',
  command: ['true'],
  env: {},
  runtime: 'docker',
  resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
  maxRetries: 0,
  timeoutSeconds: 0,
  labels: {},
  ...over,
});

const gangOf = (size: number, over: Partial<NewGang> = {}): NewGang => ({
  name: 'ddp',
  policy: 'restartGang',
  timeoutSeconds: 0,
  maxRestarts: 3,
  members: Array.from({ length: size }, () => member()),
  ...over,
});

let harness: TaskHarness;
let gangs: GangService;

function startGangs(h: TaskHarness): GangService {
  return new GangService(h.store, h.tasks, { clock: h.clock, logger: silentLogger() });
}

/** Until the task systems and the gang service both have nothing left to do. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) {
    await harness.settle();
    await gangs.idle();
  }
}

async function withWorkers(count: number, cpu = 1): Promise<void> {
  for (let i = 1; i <= count; i += 1) await harness.connectWorker(`w-${i}`, { capacity: { cpu } });
}

async function assignments(gangId: string) {
  const details = await gangs.get(HARNESS_USER, gangId);
  return details.members.map((m) => (m.workerId ? harness.assignmentOf(m.workerId, m.taskId) : undefined));
}

afterEach(async () => {
  gangs?.stop();
  await harness?.close();
});

describe('gangs through the task systems', () => {
  it('places a gang of 3 atomically across 3 workers, each member told its rank and every peer', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(3);
    const gang = await gangs.submit(HARNESS_USER, gangOf(3));
    await settle();
    const details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('running');
    expect(details.members.map((m) => m.workerId)).toEqual(['w-1', 'w-2', 'w-3']);
    const sent = await assignments(gang.id);
    const peers = [`w-1.local:${gang.port}`, `w-2.local:${gang.port + 1}`, `w-3.local:${gang.port + 2}`];
    sent.forEach((assignment, rank) => {
      expect(assignment!.task).toMatchObject({ gangId: gang.id, gangRank: rank, gangSize: 3, gangPort: gang.port });
      expect(assignment!.attempt.gangPeers).toEqual(peers);
    });
    // all succeed: the gang succeeds
    for (const assignment of sent) await harness.finished(assignment!.attempt.workerId, assignment!.attempt.id, 'succeeded');
    await settle();
    expect((await gangs.get(HARNESS_USER, gang.id)).status).toBe('succeeded');
  });

  it('places none of a gang that does not fit, says why on the gang and every member, and times it out to failed', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(3);
    const gang = await gangs.submit(HARNESS_USER, gangOf(4, { timeoutSeconds: 60 }));
    await settle();
    let details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('pending');
    expect(details.members.map((m) => m.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
    const reason = `gang ${gang.id}: 3 of 4 members fit (member 3: no matching worker has room left: w-1 lacks cpu, w-2 lacks cpu, w-3 lacks cpu)`;
    expect(details.reason).toBe(reason);
    expect(details.members.every((m) => m.reason === reason)).toBe(true);
    for (const id of ['w-1', 'w-2', 'w-3']) expect(harness.channel(id).assignments()).toEqual([]);
    // a plain task still fits meanwhile (the gang holds no room)
    const plain = await harness.submit();
    expect((await harness.task(plain.id)).status).toBe('assigned');

    await harness.advance(59_000);
    await settle();
    expect((await gangs.get(HARNESS_USER, gang.id)).status).toBe('pending');
    await harness.advance(1_000);
    await settle();
    details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('failed');
    expect(details.reason).toMatch(new RegExp(`^gang timed out after 60s: gang ${gang.id}: 3 of 4 members fit`));
    expect(details.members.map((m) => m.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(details.members.every((m) => m.reason === details.reason && m.attemptCount === 0)).toBe(true);
  });

  it('restartGang: one member fails, the others are stopped with the grace, and the whole gang runs again as new attempts', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(3);
    const gang = await gangs.submit(HARNESS_USER, gangOf(3, { maxRestarts: 1 }));
    await settle();
    const first = await assignments(gang.id);
    for (const a of first) await harness.started(a!.attempt.workerId, a!.attempt.id);
    await harness.finished('w-2', first[1]!.attempt.id, 'failed');
    await settle();
    let details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('pending');
    expect(details.reason).toMatch(/^gang restarting \(restart 1 of 1\): member 1 failed/);
    // the others are told to stop, with the grace
    expect(harness.channel('w-1').cancels().map((c) => c.attemptId)).toEqual([first[0]!.attempt.id]);
    expect(harness.channel('w-3').cancels()).toEqual([expect.objectContaining({ attemptId: first[2]!.attempt.id, graceSeconds: 2 })]);
    // nothing is placed again until they have stopped
    expect(details.members.map((m) => m.status)).toEqual(['cancelled', 'failed', 'cancelled']);
    await harness.finished('w-1', first[0]!.attempt.id, 'cancelled');
    await settle();
    expect(harness.channel('w-1').assignments()).toHaveLength(1);
    await harness.finished('w-3', first[2]!.attempt.id, 'cancelled');
    await settle();
    details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('running');
    expect(details.restartsUsed).toBe(1);
    const second = await assignments(gang.id);
    second.forEach((a, rank) => {
      expect(a!.attempt.number).toBe(2);
      expect(a!.attempt.id).not.toBe(first[rank]!.attempt.id);
    });
    // a second failure: no restart left, the gang fails and the others are stopped
    await harness.finished(second[0]!.attempt.workerId, second[0]!.attempt.id, 'failed');
    await settle();
    details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('failed');
    expect(details.reason).toMatch(/^gang failed: member 0 failed.*no restart left \(1 of 1 used\)$/);
    expect(details.members.map((m) => m.status)).toEqual(['failed', 'failed', 'failed']);
  });

  it('failGang: one member fails, the others are stopped and the gang fails at once', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(2);
    const gang = await gangs.submit(HARNESS_USER, gangOf(2, { policy: 'failGang' }));
    await settle();
    const sent = await assignments(gang.id);
    await harness.finished(sent[0]!.attempt.workerId, sent[0]!.attempt.id, 'failed');
    await settle();
    const details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('failed');
    expect(details.reason).toMatch(/^gang failed \(policy failGang\): member 0 failed/);
    expect(details.members.map((m) => m.status)).toEqual(['failed', 'failed']);
    expect(harness.channel(sent[1]!.attempt.workerId).cancels().map((c) => c.attemptId)).toEqual([sent[1]!.attempt.id]);
  });

  it('a lost member restarts the gang without charging a restart', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(3);
    const gang = await gangs.submit(HARNESS_USER, gangOf(2, { maxRestarts: 0 }));
    await settle();
    const sent = await assignments(gang.id);
    for (const a of sent) await harness.started(a!.attempt.workerId, a!.attempt.id);
    // w-1 goes silent: its attempt is lost once its fencing bound passes, the member re-queued
    await harness.silenceWorker('w-1');
    await harness.advance(20_000);
    for (const id of ['w-2', 'w-3']) harness.registry.heartbeat(id, undefined, []);
    await settle();
    let details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.reason ?? '').toMatch(/^gang restarting \(not charged\): member 0 was re-queued/);
    await harness.finished('w-2', sent[1]!.attempt.id, 'cancelled');
    await settle();
    details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('running');
    expect(details.restartsUsed).toBe(0);
    expect(details.members.map((m) => m.workerId).sort()).toEqual(['w-2', 'w-3']);
  });

  it('keeps a waiting gang and its timeout across a master restart', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(1);
    const gang = await gangs.submit(HARNESS_USER, gangOf(2, { timeoutSeconds: 30 }));
    await settle();
    expect((await gangs.get(HARNESS_USER, gang.id)).status).toBe('pending');
    gangs.stop();
    harness = await harness.restart();
    gangs = startGangs(harness);
    await gangs.recover();
    await harness.connectWorker('w-1', { capacity: { cpu: 1 } });
    await settle();
    expect(harness.channel('w-1').assignments()).toEqual([]);
    await harness.advance(30_000);
    await settle();
    const details = await gangs.get(HARNESS_USER, gang.id);
    expect(details.status).toBe('failed');
    expect(details.reason).toMatch(/^gang timed out after 30s: /);
    expect(details.members.map((m) => m.status)).toEqual(['failed', 'failed']);
  });

  it('cancels every member of a gang, and refuses a second cancel', async () => {
    harness = await TaskHarness.start();
    gangs = startGangs(harness);
    await withWorkers(2);
    const gang = await gangs.submit(HARNESS_USER, gangOf(2));
    await settle();
    const cancelled = await gangs.cancel(HARNESS_USER, gang.id);
    await settle();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.members.map((m) => m.status)).toEqual(['cancelled', 'cancelled']);
    expect(cancelled.members.every((m) => m.reason === `gang cancelled by ${HARNESS_USER.email}`)).toBe(true);
    await expect(gangs.cancel(HARNESS_USER, gang.id)).rejects.toMatchObject({ code: 'conflict' });
  });
  it('is never preempted: a higher-priority task of a PreemptLowerPriority queue stops a plain task, never a gang member', async () => {
    const queues = new QueueCatalog();
    queues.set({ ...defaultQueueRecord(0), name: 'urgent', defaultPriority: 90, preemptionPolicy: 'PreemptLowerPriority' });
    queues.rememberUser(HARNESS_USER);
    harness = await TaskHarness.start({ tasks: { queues } });
    gangs = startGangs(harness);
    await withWorkers(3);
    const gang = await gangs.submit(HARNESS_USER, gangOf(2, { members: [member({ priority: 10 }), member({ priority: 10 })] }));
    await settle();
    const sent = await assignments(gang.id);
    for (const assignment of sent) await harness.started(assignment!.attempt.workerId, assignment!.attempt.id);
    const placed = new Set(sent.map((assignment) => assignment!.attempt.workerId));
    const plainWorker = ['w-1', 'w-2', 'w-3'].find((id) => !placed.has(id))!;
    const plain = await harness.submit({ priority: 20 });
    expect(harness.assignmentOf(plainWorker, plain.id).attempt.workerId).toBe(plainWorker);
    // the gang's members have the lowest priority, yet the plain task is the one stopped
    const high = await harness.submit({ queue: 'urgent', priority: 90 });
    await settle();
    for (const id of placed) expect(harness.channel(id).cancels()).toEqual([]);
    expect(harness.channel(plainWorker).cancels()).toEqual([expect.objectContaining({ reason: `preempted by task ${high.id} (priority 90, queue urgent)` })]);
    // with no plain task left to stop, it waits: the gang runs on
    const higher = await harness.submit({ queue: 'urgent', priority: 95 });
    await settle();
    for (const id of placed) expect(harness.channel(id).cancels()).toEqual([]);
    expect((await harness.task(higher.id)).status).toBe('queued');
    expect((await gangs.get(HARNESS_USER, gang.id)).status).toBe('running');
  });
});
