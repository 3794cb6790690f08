// How the REPL prints gangs (`gangs`, `gang <id>`): pure functions from what the gang service
// answers to text.
import type { GangDetails } from '../gangs/gang-service.js';
import type { Gang } from '../records/gang.js';
import { ago, cell, distinctPrefixLength, fields, isoTime, table, type Style } from './format.js';

/** `gangs`: one row per gang, newest first. */
export function gangsTable(gangs: readonly Gang[], style: Style, now: number): string {
  const idLength = distinctPrefixLength(gangs.map((g) => g.id));
  return table(
    ['ID', 'NAME', 'STATUS', 'SIZE', 'POLICY', 'RESTARTS', 'SUBMITTED', 'REASON'],
    gangs.map((gang) => [
      gang.id.slice(0, idLength),
      cell(gang.name, 40),
      style.status(gang.status),
      String(gang.size),
      gang.policy,
      `${gang.restartsUsed}/${gang.maxRestarts}`,
      ago(gang.createdAt, now),
      cell(gang.reason ?? '', 80),
    ]),
    style,
  );
}

/** `gang <id>`: the gang, then its members together, in rank order. */
export function gangDetailsView(gang: GangDetails, style: Style): string {
  const head: [string, string][] = [
    ['id', gang.id],
    ['name', gang.name],
    ['status', style.status(gang.status)],
    ['owner', gang.userId],
    ['size', String(gang.size)],
    ['policy', `${gang.policy}${gang.policy === 'restartGang' ? ` (${gang.restartsUsed} of ${gang.maxRestarts} restarts used)` : ''}`],
    ['timeout', gang.timeoutSeconds > 0 ? `${gang.timeoutSeconds}s to be placed` : 'none'],
    ['ports', `${gang.port}-${gang.port + gang.size - 1} (member r on ${gang.port} + r)`],
    ['submitted', isoTime(gang.createdAt)],
    ['placed', isoTime(gang.placedAt)],
    ['finished', isoTime(gang.finishedAt)],
  ];
  if (gang.reason) head.push(['reason', gang.reason]);
  const members = table(
    ['RANK', 'TASK', 'NAME', 'STATUS', 'WORKER', 'ATTEMPTS', 'REASON'],
    gang.members.map((m) => [String(m.rank), m.taskId, cell(m.name, 40), style.status(m.status), m.workerId ?? '-', String(m.attemptCount), cell(m.reason ?? '', 80)]),
    style,
  );
  return [fields(head, style), '', style.bold('Members'), members].join('\n');
}
