// The resources a task gets, from what was asked and what the operator allows (WHARF_TASK_MIN_*,
// WHARF_TASK_DEFAULT_*, WHARF_TASK_MAX_*): an absent amount takes the default, and a non-admin's
// amount must lie between the minimum and the maximum. The minimum cpu and memory are above
// zero, so a non-admin task always runs with a CPU quota and a memory limit (0 would mean "no
// limit" to the runtime and "nothing to reserve" to the scheduler). Admins may go outside the
// bounds (0 = unlimited included): they run the cluster. Pure; the submission system applies it.
import { formatBytes } from '@wharf/proto';
import { WharfError } from '../errors.js';
import type { ResourceRequest, Resources, TaskLimits } from '../records/resources.js';
import type { Role } from '../records/user.js';

const UNITS: Record<keyof TaskLimits, (n: number) => string> = {
  cpu: (n) => `${Number(n.toFixed(3))} cores`,
  memory: formatBytes,
  disk: formatBytes,
};

/**
 * The resources a task of a user with `role` gets for `request`, or `validation_failed` naming
 * the field, the bound and what was asked.
 */
export function resolveResources(request: ResourceRequest, role: Role, limits: TaskLimits): Resources {
  const resolved: Resources = { cpu: 0, memory: 0, gpu: request.gpu ?? 0, disk: 0 };
  for (const key of ['cpu', 'memory', 'disk'] as const) {
    const limit = limits[key];
    const value = request[key] ?? limit.default;
    if (role !== 'admin') {
      const show = UNITS[key];
      if (value < limit.min) {
        const zero = value === 0 ? ` (0 means no ${key === 'cpu' ? 'CPU quota' : key === 'memory' ? 'memory limit' : 'disk limit'}, which only admins may ask for)` : '';
        throw new WharfError('validation_failed', `resources.${key}: must be at least ${show(limit.min)}, the minimum for a task (got ${show(value)})${zero}`);
      }
      if (limit.max !== undefined && value > limit.max) {
        throw new WharfError('validation_failed', `resources.${key}: must be at most ${show(limit.max)}, the maximum for a task (got ${show(value)})`);
      }
    }
    resolved[key] = value;
  }
  return resolved;
}
