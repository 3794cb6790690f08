// What the console records in the audit trail for the commands that change dead letters and
// queues: the same actions as the REST routes (http/audit-log.ts), and nothing for reads.
import { describe, expect, it } from 'vitest';
import { AUDITED_ROUTES } from '../http/audit-log.js';
import { findCommand } from './commands.js';

const auditOf = (command: string, args: string[]): string | undefined => findCommand(command).audit?.(args);

describe('the console audits dead-letter and queue changes as REST does', () => {
  it('names one task\'s action, or the bulk one for --all or several ids; a listing is not recorded', () => {
    expect(auditOf('dead-letters', ['requeue', '3f2a9c1e'])).toBe('dead-letter.requeue');
    expect(auditOf('dead-letters', ['dismiss', '3f2a9c1e'])).toBe('dead-letter.dismiss');
    expect(auditOf('dead-letters', ['requeue', 'a1', 'b2'])).toBe('dead-letter.requeue-bulk');
    expect(auditOf('dead-letters', ['dismiss', '--all', '--image', 'busybox'])).toBe('dead-letter.dismiss-bulk');
    expect(auditOf('dead-letters', ['ls'])).toBeUndefined();
    expect(auditOf('dead-letters', [])).toBeUndefined();
  });

  it('names queue and user-limit changes; showing a queue is not recorded', () => {
    expect(auditOf('queues', ['create', 'gpu', 'maxGpus=4'])).toBe('queue.create');
    expect(auditOf('queues', ['set', 'gpu', 'maxGpus=null'])).toBe('queue.update');
    expect(auditOf('queues', ['rm', 'gpu'])).toBe('queue.delete');
    expect(auditOf('queues', ['limit', 'ada@example.com', 'weight=3'])).toBe('user-limit.set');
    expect(auditOf('queues', ['unlimit', 'ada@example.com'])).toBe('user-limit.delete');
    expect(auditOf('queues', ['show', 'gpu'])).toBeUndefined();
    expect(auditOf('queues', [])).toBeUndefined();
  });

  it('uses only actions the REST table has (so docs/API.md, "Audit log", lists them)', () => {
    const rest = new Set(AUDITED_ROUTES.map((route) => route.action));
    const used = [
      ['dead-letters', ['requeue', 'a']],
      ['dead-letters', ['dismiss', 'a']],
      ['dead-letters', ['requeue', '--all']],
      ['dead-letters', ['dismiss', '--all']],
      ['queues', ['create', 'q']],
      ['queues', ['set', 'q']],
      ['queues', ['rm', 'q']],
      ['queues', ['limit', 'u']],
      ['queues', ['unlimit', 'u']],
    ] as const;
    expect(used.map(([command, args]) => auditOf(command, [...args])).filter((action) => !rest.has(action!))).toEqual([]);
  });
});
