import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_LIMITS, type TaskLimits } from '../records/resources.js';
import { resolveResources } from './task-limits.js';

const Mi = 1024 * 1024;
const limits: TaskLimits = {
  cpu: { min: 0.1, default: 0.5, max: 2 },
  memory: { min: 32 * Mi, default: 256 * Mi, max: 1024 * Mi },
  disk: { min: 0, default: 100 * Mi, max: 1024 * Mi },
};

describe('resolveResources', () => {
  it('fills what was not asked with the configured defaults', () => {
    expect(resolveResources({}, 'user', limits)).toEqual({ cpu: 0.5, memory: 256 * Mi, gpu: 0, disk: 100 * Mi });
    expect(resolveResources({ cpu: 1, gpu: 1 }, 'user', limits)).toEqual({ cpu: 1, memory: 256 * Mi, gpu: 1, disk: 100 * Mi });
  });

  it.each([
    [{ cpu: 0 }, 'resources.cpu: must be at least 0.1 cores, the minimum for a task (got 0 cores) (0 means no CPU quota, which only admins may ask for)'],
    [{ memory: 0 }, 'resources.memory: must be at least 32Mi, the minimum for a task (got 0B) (0 means no memory limit, which only admins may ask for)'],
    [{ cpu: 0.05 }, 'resources.cpu: must be at least 0.1 cores, the minimum for a task (got 0.05 cores)'],
    [{ cpu: 3 }, 'resources.cpu: must be at most 2 cores, the maximum for a task (got 3 cores)'],
    [{ memory: 2048 * Mi }, 'resources.memory: must be at most 1Gi, the maximum for a task (got 2Gi)'],
    [{ disk: 2048 * Mi }, 'resources.disk: must be at most 1Gi, the maximum for a task (got 2Gi)'],
  ])('refuses %j for a user, naming the field and the bound', (request, message) => {
    expect(() => resolveResources(request, 'user', limits)).toThrow(message);
    try {
      resolveResources(request, 'user', limits);
    } catch (error: unknown) {
      expect(error).toMatchObject({ code: 'validation_failed' });
    }
  });

  it('lets an admin go outside the bounds, 0 (unlimited) included', () => {
    expect(resolveResources({ cpu: 0, memory: 0, disk: 4096 * Mi }, 'admin', limits)).toEqual({ cpu: 0, memory: 0, gpu: 0, disk: 4096 * Mi });
    expect(resolveResources({ cpu: 8 }, 'admin', limits).cpu).toBe(8);
  });

  it('gives every task of a user a CPU quota and a memory limit with the default limits', () => {
    expect(() => resolveResources({ cpu: 0, memory: 0 }, 'user', DEFAULT_TASK_LIMITS)).toThrow(/^resources\.cpu: must be at least 0\.01 cores/);
    expect(() => resolveResources({ memory: 0 }, 'user', DEFAULT_TASK_LIMITS)).toThrow(/^resources\.memory: must be at least 6Mi/);
    const resolved = resolveResources({}, 'user', DEFAULT_TASK_LIMITS);
    expect(resolved.cpu).toBeGreaterThan(0);
    expect(resolved.memory).toBeGreaterThan(0);
    // disk is not watched unless asked or configured
    expect(resolved.disk).toBe(0);
  });
});
