import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { Leadership } from './leadership.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-leadership-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

describe('Leadership', () => {
  it('leads at once when alone, a standby takes over only after the lease runs out, and the old leader steps down on its next renewal', async () => {
    const store = new SqliteStore(join(dir, 'a.db'));
    let now = 10_000;
    const options = { leaseTtlMs: 5000, renewIntervalMs: 60_000, now: () => now };
    const events = (log: string[]) => ({
      elected: async (epoch: number) => void log.push(`elected ${epoch}`),
      steppedDown: (reason: string) => void log.push(`down: ${reason}`),
    });
    const aLog: string[] = [];
    const a = new Leadership(store, { ...options, address: 'a:1', httpUrl: 'http://a' }, logger);
    await a.start(events(aLog));
    expect(aLog).toEqual(['elected 1']);
    expect(a.isLeader()).toBe(true);
    expect(a.leader()).toEqual({ address: 'a:1', httpUrl: 'http://a', epoch: 1 });

    const bLog: string[] = [];
    const b = new Leadership(store, { ...options, address: 'b:1', httpUrl: 'http://b' }, logger);
    await b.start(events(bLog));
    expect(b.isLeader()).toBe(false);
    expect(b.epoch()).toBeUndefined();
    expect(b.leader()).toEqual({ address: 'a:1', httpUrl: 'http://a', epoch: 1 });

    // A renews at 12 s (lease to 17 s); B tries at 16.9 s: still A's
    now = 12_000;
    await (a as unknown as { tick(): Promise<void> }).tick();
    now = 16_900;
    await (b as unknown as { tick(): Promise<void> }).tick();
    expect(b.isLeader()).toBe(false);
    // A stops renewing (frozen); at 17 s the lease is out: B takes it at epoch 2
    now = 17_000;
    expect(b.leader()).toBeUndefined(); // no leader known once the lease ran out
    await (b as unknown as { tick(): Promise<void> }).tick();
    expect(bLog).toEqual(['elected 2']);
    expect(b.isLeader()).toBe(true);
    // A wakes: its renewal finds the lease taken
    await (a as unknown as { tick(): Promise<void> }).tick();
    expect(a.isLeader()).toBe(false);
    expect(a.role).toBe('stepped-down');
    expect(aLog).toEqual(['elected 1', 'down: the lease is no longer this master\'s (epoch 1 was taken over)']);
    expect(a.changes).toBe(2);

    // an orderly stop releases: a third master takes over without waiting for the TTL
    await b.stop();
    const c = new Leadership(store, { ...options, address: 'c:1', httpUrl: 'http://c' }, logger);
    const cLog: string[] = [];
    await c.start(events(cLog));
    expect(cLog).toEqual(['elected 3']);
    await c.stop();
    await a.stop();
    await store.close();
  });
});
