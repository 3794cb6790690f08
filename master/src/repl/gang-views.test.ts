import { describe, expect, it } from 'vitest';
import type { GangDetails } from '../gangs/gang-service.js';
import { createStyle } from './format.js';
import { gangDetailsView, gangsTable } from './gang-views.js';

const T0 = Date.UTC(2030, 0, 1);
const gang: GangDetails = {
  id: '9c0ffee1-0000-4000-8000-000000000001', name: 'ddp', userId: 'u1', size: 2, status: 'pending', policy: 'restartGang', timeoutSeconds: 60,
  maxRestarts: 3, restartsUsed: 1, memberIds: ['t-0', 't-1'], port: 29500, createdAt: T0, waitingSince: T0, version: 2,
  reason: 'gang 9c0ffee1: 1 of 2 members fit (member 1: no matching worker has room left: w-2 lacks memory)',
  members: [
    { rank: 0, taskId: 't-0', name: 'ddp-0', status: 'queued', attemptCount: 1, reason: 'gang 9c0ffee1: 1 of 2 members fit' },
    { rank: 1, taskId: 't-1', name: 'ddp-1', status: 'queued', attemptCount: 1 },
  ],
};

describe('gang views', () => {
  it('shows a gang with its members together in rank order, with its ports and restarts', () => {
    const text = gangDetailsView(gang, createStyle(false));
    expect(text).toMatch(/policy:\s+restartGang \(1 of 3 restarts used\)/);
    expect(text).toMatch(/ports:\s+29500-29501 \(member r on 29500 \+ r\)/);
    expect(text).toMatch(/reason:\s+gang 9c0ffee1: 1 of 2 members fit \(member 1: .*w-2 lacks memory\)/);
    expect(text).toMatch(/RANK\s+TASK\s+NAME\s+STATUS\s+WORKER\s+ATTEMPTS\s+REASON\n0\s+t-0\s+ddp-0\s+queued\s+-\s+1\s+gang 9c0ffee1: 1 of 2 members fit\n1\s+t-1\s+ddp-1\s+queued\s+-\s+1/);
  });

  it('lists gangs with their status, size and restarts', () => {
    expect(gangsTable([gang], createStyle(false), T0 + 5000)).toMatch(/^ID\s+NAME\s+STATUS\s+SIZE\s+POLICY\s+RESTARTS\s+SUBMITTED\s+REASON\n9c0ffee1\s+ddp\s+pending\s+2\s+restartGang\s+1\/3\s+/);
  });
});
