// Retention and storage: a garbage-collection run (admins) and per-user storage usage.
import { formatBytes } from '@wharf/proto/units';
import { cell, table } from '@wharf/proto/console-format';
import type { CommandSpec } from '../command-spec.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, stringOption } from '../parse-args.js';
import { OUTPUT_OPTION } from './shared-options.js';

/** POST /api/admin/gc's answer. */
export interface GcReportView {
  removed: { tasks: number; events: number; logs: number; files: number; dagRuns: number; artifacts: number; telemetry: number };
  bytesFreed: number;
  dryRun: boolean;
  durationMs: number;
  startedAt: string;
}

/** One entry of GET /api/usage. */
export interface UserUsageView {
  userId: string;
  email: string | null;
  logBytes: number;
  outputBytes: number;
  artifactBytes: number;
  totalBytes: number;
  quotaBytes: number | null;
}

/** One line: what a run removed (or would) and the bytes freed. */
export function gcReportLine(report: GcReportView): string {
  const r = report.removed;
  const verb = report.dryRun ? 'would remove' : 'removed';
  return (
    `${verb} ${r.tasks} task${r.tasks === 1 ? '' : 's'} (${r.events} events), ${r.dagRuns} DAG run${r.dagRuns === 1 ? '' : 's'}, ` +
    `${r.logs} logs, ${r.files} output files, ${r.artifacts} artifacts, ${r.telemetry} telemetry histories; ` +
    `${formatBytes(report.bytesFreed)} ${report.dryRun ? 'would be freed' : 'freed'} (${report.durationMs} ms)`
  );
}

const gc: CommandSpec = {
  name: 'gc',
  usage: 'gc [--dry-run] [-o json|yaml]',
  summary: 'run the master\'s garbage collector now: retention by age and count (admins)',
  description: [
    'Removes finished tasks, DAG runs, logs, output files, unreferenced artifacts and idle telemetry',
    'past the master\'s retention settings (WHARF_RETAIN_*), and says what it removed and the bytes',
    'freed. --dry-run removes nothing and says what a run would remove.',
  ].join('\n'),
  options: [{ name: 'dry-run', help: 'remove nothing; say what a run would remove' }, OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('gc', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'gc');
    const dryRun = flagOption(args, 'dry-run');
    const report = await ctx.client().request<GcReportView>('POST', '/api/admin/gc', { query: { dryRun: String(dryRun) } });
    ctx.out.data(format, report, () => gcReportLine(report));
  },
};

const usage: CommandSpec = {
  name: 'usage',
  usage: 'usage [USER] [-o json|yaml]',
  summary: 'bytes of logs, outputs and artifacts kept on the master, with the quota (yours; anyone\'s for admins)',
  description: 'USER is an email or a user id (admins). Without it: your own usage, or every user\'s for an admin.',
  options: [OUTPUT_OPTION],
  args: ['none'],
  async run(ctx, args) {
    const [user] = expectArgs('usage', args, 0, 1, 'a user');
    const format = parseOutputFormat(stringOption(args, 'output'), 'usage');
    const answer = await ctx.client().get<{ users: UserUsageView[]; measuredAt: string }>('/api/usage', user === undefined ? undefined : { user });
    ctx.out.data(format, answer, () =>
      table(
        ['USER', 'LOGS', 'OUTPUTS', 'ARTIFACTS', 'TOTAL', 'QUOTA'],
        answer.users.map((u) => [
          cell(u.email ?? `${u.userId} (deleted)`, 60),
          formatBytes(u.logBytes),
          formatBytes(u.outputBytes),
          formatBytes(u.artifactBytes),
          formatBytes(u.totalBytes),
          u.quotaBytes === null ? '-' : formatBytes(u.quotaBytes),
        ]),
        ctx.out.style,
      ),
    );
  },
};

export const RETENTION_COMMANDS: readonly CommandSpec[] = [gc, usage];
