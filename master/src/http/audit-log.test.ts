// The audit table against docs/API.md: every state-changing route the API documents is audited
// with a named action, and every action is documented in "Audit log"; a refused request is
// recorded with its error code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDITED_ROUTES, auditedRoute, DRY_RUN_ROUTES } from './audit-log.js';

const API_MD = readFileSync(join(import.meta.dirname, '../../../docs/API.md'), 'utf8');

/** `POST /api/...` routes from the tables of docs/API.md (the first cell of a row). */
function documentedChanges(): { method: string; path: string }[] {
  const found: { method: string; path: string }[] = [];
  for (const match of API_MD.matchAll(/^\| `(POST|PATCH|PUT|DELETE) (\/api\/[^`?\s]+)/gm)) {
    found.push({ method: match[1]!, path: match[2]!.replace(/:[A-Za-z]+/g, 'some-id').replace(/\*[A-Za-z]+/g, 'x') });
  }
  return found;
}

describe('the audit trail covers every change', () => {
  it('finds the documented routes it checks', () => {
    expect(documentedChanges().length).toBeGreaterThanOrEqual(15);
  });

  it('audits every state-changing route docs/API.md lists', () => {
    const missing = documentedChanges()
      .filter((route) => !DRY_RUN_ROUTES.some((dryRun) => dryRun.test(route.path)))
      .filter((route) => !auditedRoute(route.method, route.path, {}));
    expect(missing).toEqual([]);
  });

  it('documents every action in docs/API.md, "Audit log"', () => {
    const section = API_MD.slice(API_MD.indexOf('## Audit log'), API_MD.indexOf('## Tasks'));
    const undocumented = AUDITED_ROUTES.map((route) => route.action).filter((action) => !section.includes(`\`${action}\``));
    expect(undocumented).toEqual([]);
  });

  it('names the object from the path, or the email of a login, and skips reads and unknown paths', () => {
    expect(auditedRoute('DELETE', '/api/tasks/abc-123', undefined)).toEqual({ action: 'task.cancel', object: 'task:abc-123' });
    expect(auditedRoute('POST', '/api/auth/login', { email: ' Ada@Example.com ', password: 'x' })).toEqual({ action: 'auth.login', object: 'email:ada@example.com' });
    expect(auditedRoute('PATCH', '/api/users/u-1', { disabled: true })).toEqual({ action: 'user.update', object: 'user:u-1' });
    expect(auditedRoute('DELETE', '/api/users/invites/i-1', undefined)).toEqual({ action: 'invite.revoke', object: 'invite:i-1' });
    expect(auditedRoute('POST', '/api/dead-letters/t-1/requeue', undefined)).toEqual({ action: 'dead-letter.requeue', object: 'task:t-1' });
    expect(auditedRoute('POST', '/api/dead-letters/requeue', { taskIds: ['t-1'] })).toEqual({ action: 'dead-letter.requeue-bulk', object: undefined });
    expect(auditedRoute('DELETE', '/api/dead-letters/t-1', undefined)).toEqual({ action: 'dead-letter.dismiss', object: 'task:t-1' });
    expect(auditedRoute('POST', '/api/queues', { name: 'gpu-train' })).toEqual({ action: 'queue.create', object: 'queue:gpu-train' });
    expect(auditedRoute('PUT', '/api/queues/gpu-train/users/ada%40example.com', {})).toEqual({ action: 'user-limit.set', object: 'user:ada@example.com' });
    expect(auditedRoute('DELETE', '/api/queues/gpu-train', undefined)).toEqual({ action: 'queue.delete', object: 'queue:gpu-train' });
    expect(auditedRoute('GET', '/api/tasks', undefined)).toBeUndefined();
    expect(auditedRoute('POST', '/api/no/such/route', undefined)).toBeUndefined();
    expect(auditedRoute('DELETE', '/api/tasks/%E0%A4%A', undefined)).toEqual({ action: 'task.cancel', object: undefined });
  });
});
