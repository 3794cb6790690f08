import { describe, expect, it } from 'vitest';
import { mockTask } from '../store/store.conformance.js';
import { taskView } from './views.js';

describe('taskView', () => {
  it('never shows more retries used than maxRetries, also for a task stored when the last failure was counted as one', () => {
    const legacy = mockTask({ status: 'failed', maxRetries: 2, retriesUsed: 3 });
    expect(taskView(legacy)).toMatchObject({ retriesUsed: 2, maxRetries: 2, retryPolicy: { maxRetries: 2 } });
    expect(taskView(mockTask({ status: 'queued', maxRetries: 2, retriesUsed: 1 })).retriesUsed).toBe(1);
  });

  it('shows the whole retry policy, deadlines and the dead-letter mark as the API documents them', () => {
    const task = mockTask({
      status: 'failed',
      maxRetries: 1,
      retryPolicy: { backoffSeconds: 5, backoffMultiplier: 2, maxBackoffSeconds: 60, retryOn: { exitCodes: [75] } },
      deadLetteredAt: Date.UTC(2030, 0, 1),
      startDeadline: Date.UTC(2030, 0, 1, 1),
      deadlineExceeded: 'startDeadline',
    });
    expect(taskView(task)).toMatchObject({
      retryPolicy: { maxRetries: 1, backoffSeconds: 5, backoffMultiplier: 2, maxBackoffSeconds: 60, retryOn: { exitCodes: [75] } },
      deadLetteredAt: '2030-01-01T00:00:00.000Z',
      startDeadline: '2030-01-01T01:00:00.000Z',
      deadline: null,
      deadlineExceeded: 'startDeadline',
    });
  });

  it('shows preemptible: true unless the task was submitted preemptible: false (tasks stored before it included)', () => {
    expect(taskView(mockTask({ status: 'queued' })).preemptible).toBe(true);
    expect(taskView(mockTask({ status: 'queued', preemptible: false })).preemptible).toBe(false);
  });
});
