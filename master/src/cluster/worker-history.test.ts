// The registry's worker history on the harness (a temp SqliteStore, the real registry, a manual
// clock that does not move unless told, so several entries share one millisecond): each change
// is recorded once, in the order it happened, and nothing is recorded for a drain that changes
// nothing or for a live worker registering again.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeWorkerChannel, TaskHarness } from '../tasks/testing/harness.js';

let harness: TaskHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const kinds = async (h: TaskHarness, id: string) => (await h.store.listWorkerEvents(id, 50)).map((e) => e.kind);

describe('worker history (registry)', () => {
  it('records joined, drained, activated, disconnected, reconnected, lost, rejoined and removed once each, in order within one millisecond', async () => {
    const h = (harness = await TaskHarness.start({ heartbeatTtlMs: 3000, heartbeatIntervalMs: 500 }));
    await h.connectWorker('w1');
    expect(await kinds(h, 'w1')).toEqual(['joined']);
    // the stream reopening after a registration of a live worker: nothing new
    await h.connectWorker('w1');
    expect(await kinds(h, 'w1')).toEqual(['joined']);

    await h.registry.setDraining('w1', true);
    await h.registry.setDraining('w1', true);
    await h.registry.setDraining('w1', false);
    expect(await kinds(h, 'w1')).toEqual(['activated', 'drained', 'joined']);

    const channel = h.channel('w1');
    h.registry.detach('w1', channel);
    expect(h.registry.attach('w1', new FakeWorkerChannel())).toBe(true);
    await h.settle();
    expect(await kinds(h, 'w1')).toEqual(['reconnected', 'disconnected', 'activated', 'drained', 'joined']);

    await h.registry.markWorkerLost('w1', 'no heartbeat within the TTL');
    await h.connectWorker('w1');
    await h.registry.remove('w1');
    const events = await h.store.listWorkerEvents('w1', 50);
    expect(events.map((e) => e.kind)).toEqual(['removed', 'rejoined', 'lost', 'reconnected', 'disconnected', 'activated', 'drained', 'joined']);
    expect(events.find((e) => e.kind === 'lost')?.detail).toBe('no heartbeat within the TTL');
    // all in the same millisecond of the manual clock: the order came from the ids
    expect(new Set(events.map((e) => e.at)).size).toBe(1);
  });
});
