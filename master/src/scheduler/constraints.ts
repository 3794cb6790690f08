// Label constraints: conditions on a worker's labels (Kubernetes' node affinity match
// expressions), from a task (`constraints`) and from its queue (`workerSelector`, `constraints`).
import type { LabelConstraint } from '../records/queue.js';

export function matchesConstraint(labels: Readonly<Record<string, string>>, constraint: LabelConstraint): boolean {
  const value = Object.hasOwn(labels, constraint.key) ? labels[constraint.key] : undefined;
  switch (constraint.op) {
    case 'in':
      return value !== undefined && (constraint.values ?? []).includes(value);
    case 'notIn':
      return value === undefined || !(constraint.values ?? []).includes(value);
    case 'exists':
      return value !== undefined;
    case 'notExists':
      return value === undefined;
  }
}

export function matchesConstraints(labels: Readonly<Record<string, string>>, constraints: readonly LabelConstraint[]): boolean {
  for (const constraint of constraints) if (!matchesConstraint(labels, constraint)) return false;
  return true;
}

/** "zone in (a,b)", "gpu exists": how a reason names a constraint. */
export function describeConstraint(constraint: LabelConstraint): string {
  switch (constraint.op) {
    case 'in':
    case 'notIn':
      return `${constraint.key} ${constraint.op} (${(constraint.values ?? []).join(',')})`;
    case 'exists':
    case 'notExists':
      return `${constraint.key} ${constraint.op}`;
  }
}
