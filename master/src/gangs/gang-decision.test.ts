import { describe, expect, it } from 'vitest';
import type { Gang } from '../records/gang.js';
import type { TaskStatus } from '../records/task.js';
import { decideGang, type MemberView } from './gang-decision.js';

const T0 = 1_000_000;
const gang = (over: Partial<Gang> = {}): Gang => ({
  id: 'g', name: 'ddp', userId: 'u', size: 2, status: 'pending', policy: 'restartGang', timeoutSeconds: 60, maxRestarts: 1, restartsUsed: 0,
  memberIds: ['a', 'b'], port: 29500, createdAt: T0, waitingSince: T0, version: 1, ...over,
});
const member = (rank: number, status: TaskStatus, over: { reason?: string; holdsAttempt?: boolean } = {}): MemberView => ({
  rank,
  task: { id: `t${rank}`, status, reason: over.reason, attemptCount: 1 },
  holdsAttempt: over.holdsAttempt ?? (status === 'assigned' || status === 'running'),
});

describe('decideGang', () => {
  it.each([
    ['every member placed: running', gang(), [member(0, 'assigned'), member(1, 'running')], { kind: 'placed' }],
    ['one still queued: nothing yet', gang(), [member(0, 'assigned'), member(1, 'queued', { reason: 'gang g: 1 of 2 members fit' })], { kind: 'none' }],
    ['every member succeeded', gang({ status: 'running' }), [member(0, 'succeeded'), member(1, 'succeeded')], { kind: 'succeed' }],
    ['ended gangs are left alone', gang({ status: 'failed' }), [member(0, 'failed'), member(1, 'failed')], { kind: 'none' }],
  ] as const)('%s', (_name, g, members, expected) => {
    expect(decideGang(g, members, T0)).toEqual(expected);
  });

  it('times a pending gang out at gangTimeoutSeconds with what it waited for, not before', () => {
    const waiting = [member(0, 'queued', { reason: 'gang g: 1 of 2 members fit' }), member(1, 'queued')];
    expect(decideGang(gang(), waiting, T0 + 59_999)).toEqual({ kind: 'none' });
    expect(decideGang(gang(), waiting, T0 + 60_000)).toEqual({ kind: 'timeOut', reason: 'gang timed out after 60s: gang g: 1 of 2 members fit' });
    expect(decideGang(gang({ timeoutSeconds: 0 }), waiting, T0 + 10 ** 9)).toEqual({ kind: 'none' });
    // counted from the last restart
    expect(decideGang(gang({ waitingSince: T0 + 50_000 }), waiting, T0 + 60_000)).toEqual({ kind: 'none' });
  });

  it('restarts on a failure while a restart is left, charging it; then fails', () => {
    const failed = [member(0, 'failed', { reason: 'exit code 1' }), member(1, 'running')];
    expect(decideGang(gang({ status: 'running' }), failed, T0)).toEqual({ kind: 'restart', charged: true, reason: 'gang restarting (restart 1 of 1): member 0 failed: exit code 1' });
    expect(decideGang(gang({ status: 'running', restartsUsed: 1 }), failed, T0)).toEqual({
      kind: 'fail',
      status: 'failed',
      reason: 'gang failed: member 0 failed: exit code 1; no restart left (1 of 1 used)',
    });
    expect(decideGang(gang({ status: 'running', policy: 'failGang' }), failed, T0)).toEqual({ kind: 'fail', status: 'failed', reason: 'gang failed (policy failGang): member 0 failed: exit code 1' });
  });

  it('restarts without charging when a running gang\'s member came back to the queue (its worker lost), even with no restart left', () => {
    const lost = [member(0, 'queued', { reason: 'worker w1 lost' }), member(1, 'running')];
    expect(decideGang(gang({ status: 'running', restartsUsed: 1 }), lost, T0)).toEqual({ kind: 'restart', charged: false, reason: 'gang restarting (not charged): member 0 was re-queued (its attempt was lost): worker w1 lost' });
  });

  it('cancels the gang when a person cancelled a member', () => {
    const cancelled = [member(0, 'cancelled', { reason: 'cancelled by ada@example.com' }), member(1, 'running')];
    expect(decideGang(gang({ status: 'running' }), cancelled, T0)).toEqual({ kind: 'fail', status: 'cancelled', reason: 'gang cancelled: member 0 was cancelled: cancelled by ada@example.com' });
  });

  it('re-queues a restarting gang only once no member lives or holds an attempt', () => {
    const restarting = gang({ stopping: 'restart' });
    expect(decideGang(restarting, [member(0, 'failed'), member(1, 'cancelled', { holdsAttempt: true })], T0)).toEqual({ kind: 'none' });
    expect(decideGang(restarting, [member(0, 'failed'), member(1, 'running')], T0)).toEqual({ kind: 'none' });
    expect(decideGang(restarting, [member(0, 'failed'), member(1, 'cancelled', { holdsAttempt: false })], T0)).toEqual({ kind: 'requeue' });
  });
});
