// What happens next to a gang, decided from the gang record and its members' states alone (pure;
// table-tested in gang-decision.test.ts). The gang service applies the answer.
//
//   every member succeeded                                 → succeed
//   pending, every member placed (assigned or running)     → placed (running)
//   pending, waited past timeoutSeconds, not all placed    → timeOut (the gang and every member fail)
//   a member failed, or was cancelled / re-queued by anything but the gang (its worker lost, a
//   person, a deadline) while the gang is not already stopping:
//     a person cancelled it                                → fail as cancelled (every member cancelled)
//     policy failGang, or no restart left                  → fail (the others stopped, failed)
//     restartGang with a restart left                      → restart (the others stopped; a lost
//                                                            member's restart is not charged)
//   restarting, no member lives or holds an attempt        → requeue (every member, one commit)
import type { Gang } from '../records/gang.js';
import type { Task } from '../records/task.js';

export interface MemberView {
  rank: number;
  task: Pick<Task, 'id' | 'status' | 'reason' | 'workerId' | 'attemptCount'>;
  holdsAttempt: boolean;
}

export type GangDecision =
  | { kind: 'none' }
  | { kind: 'placed' }
  | { kind: 'succeed' }
  | { kind: 'timeOut'; reason: string }
  | { kind: 'fail'; status: 'failed' | 'cancelled'; reason: string }
  | { kind: 'restart'; reason: string; charged: boolean }
  | { kind: 'requeue' };

/** How a member's ending the gang did not cause reads in reasons. */
function describeBreak(member: MemberView): { words: string; lost: boolean; cancelledByPerson: boolean } {
  const { task } = member;
  const reason = task.reason ? `: ${task.reason}` : '';
  if (task.status === 'queued') return { words: `member ${member.rank} was re-queued (its attempt was lost)${reason}`, lost: true, cancelledByPerson: false };
  if (task.status === 'cancelled') return { words: `member ${member.rank} was cancelled${reason}`, lost: false, cancelledByPerson: (task.reason ?? '').startsWith('cancelled by ') };
  return { words: `member ${member.rank} failed${reason}`, lost: false, cancelledByPerson: false };
}

export function decideGang(gang: Gang, members: readonly MemberView[], now: number): GangDecision {
  if (gang.status !== 'pending' && gang.status !== 'running') return { kind: 'none' };
  if (gang.stopping === 'restart') {
    const settled = members.every((m) => !m.holdsAttempt && (m.task.status === 'queued' || m.task.status === 'failed' || m.task.status === 'cancelled' || m.task.status === 'succeeded'));
    return settled ? { kind: 'requeue' } : { kind: 'none' };
  }
  if (members.length === gang.size && members.every((m) => m.task.status === 'succeeded')) return { kind: 'succeed' };
  // a member that broke the gang: failed or cancelled, or queued again while the gang ran
  const broken = members.find(
    (m) => m.task.status === 'failed' || m.task.status === 'cancelled' || (gang.status === 'running' && m.task.status === 'queued'),
  );
  if (broken) {
    const why = describeBreak(broken);
    if (why.cancelledByPerson) return { kind: 'fail', status: 'cancelled', reason: `gang cancelled: ${why.words}` };
    const charged = !why.lost;
    if (gang.policy === 'failGang') return { kind: 'fail', status: 'failed', reason: `gang failed (policy failGang): ${why.words}` };
    if (charged && gang.restartsUsed >= gang.maxRestarts) {
      return { kind: 'fail', status: 'failed', reason: `gang failed: ${why.words}; no restart left (${gang.restartsUsed} of ${gang.maxRestarts} used)` };
    }
    return { kind: 'restart', charged, reason: `gang restarting${charged ? ` (restart ${gang.restartsUsed + 1} of ${gang.maxRestarts})` : ' (not charged)'}: ${why.words}` };
  }
  if (gang.status === 'pending') {
    if (members.length === gang.size && members.every((m) => m.task.status === 'assigned' || m.task.status === 'running' || m.task.status === 'succeeded')) return { kind: 'placed' };
    if (gang.timeoutSeconds > 0 && now >= gang.waitingSince + gang.timeoutSeconds * 1000) {
      const waiting = members.find((m) => m.task.status === 'queued')?.task.reason ?? gang.reason ?? 'not all members placed';
      return { kind: 'timeOut', reason: `gang timed out after ${gang.timeoutSeconds}s: ${waiting}` };
    }
  }
  return { kind: 'none' };
}
