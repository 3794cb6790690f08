// Dead letters: tasks that failed through their retry policy. ls, requeue (as the same task,
// retries reset), dismiss (it stays failed); by id prefixes, or --all of an image or name.
import { ago, cell, distinctPrefixLength, table } from '@wharf/proto/console-format';
import { timeOf, type DeadLetterBulkView, type DeadLetterView } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import type { CommandSpec, ParsedArgs } from '../command-spec.js';
import { CliError, UsageError } from '../errors.js';
import { resolveTaskId } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, intOption, stringOption } from '../parse-args.js';
import { OUTPUT_OPTION } from './shared-options.js';

const FILTER_OPTIONS = [
  { name: 'image', value: 'IMAGE', help: 'only dead letters of this image' },
  { name: 'name', value: 'NAME', help: 'only dead letters with this task name' },
];

const ls: CommandSpec = {
  name: 'dead-letters ls',
  usage: 'dead-letters ls [--image I] [--name N] [--limit N] [-o json|yaml]',
  summary: 'tasks that failed with no retry left, with attempts and last error',
  options: [...FILTER_OPTIONS, { name: 'limit', value: 'N', help: 'how many, newest first: 1-500 (50)' }, OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('dead-letters ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'dead-letters ls');
    const limit = intOption('dead-letters ls', args, 'limit', 1, 500) ?? 50;
    const query = { limit, image: stringOption(args, 'image'), name: stringOption(args, 'name') };
    const { deadLetters } = await ctx.client().get<{ deadLetters: DeadLetterView[] }>('/api/dead-letters', query);
    const now = ctx.io.now();
    ctx.out.data(format, deadLetters, () => {
      if (deadLetters.length === 0) return ctx.out.style.dim('no dead letters');
      const idLength = distinctPrefixLength(deadLetters.map((d) => d.id));
      return table(
        ['ID', 'NAME', 'IMAGE', 'FAILED', 'ATTEMPTS', 'RETRIES', 'LAST ERROR'],
        deadLetters.map((d) => [
          d.id.slice(0, idLength),
          cell(d.name, 30),
          cell(d.image || `(${d.runtime})`, 40),
          ago(timeOf(d.deadLetteredAt ?? d.finishedAt ?? d.createdAt), now),
          String(d.attempts.length),
          `${d.retriesUsed}/${d.maxRetries}`,
          cell(d.lastError ?? d.reason ?? '-', 80),
        ]),
        ctx.out.style,
      );
    });
  },
};

function bulk(action: 'requeue' | 'dismiss'): CommandSpec {
  const verb = action === 'requeue' ? 're-queued' : 'dismissed';
  return {
    name: `dead-letters ${action}`,
    usage: `dead-letters ${action} TASK... | dead-letters ${action} --all [--image I] [--name N]`,
    summary:
      action === 'requeue'
        ? 'run dead letters again as the same tasks (new attempts, retries reset)'
        : 'take tasks out of the dead letters (they stay failed)',
    description: 'TASK is a task id or a unique prefix of one. --all takes every dead letter you may see (of an image or name), up to 1000 a call.',
    options: [{ name: 'all', help: 'every dead letter (with --image/--name: of that image or name)' }, ...FILTER_OPTIONS],
    args: ['task'],
    variadic: true,
    async run(ctx, args) {
      const selection = await selectionOf(ctx, `dead-letters ${action}`, args);
      const answer = await ctx.client().request<DeadLetterBulkView>('POST', `/api/dead-letters/${action}`, { json: selection });
      const done = (action === 'requeue' ? answer.requeued : answer.dismissed) ?? [];
      ctx.out.line(`${verb} ${done.length} task${done.length === 1 ? '' : 's'}${done.length > 0 && done.length <= 20 ? `: ${done.map((id) => id.slice(0, 8)).join(' ')}` : ''}`);
      for (const skipped of answer.skipped) ctx.out.note(`wharf dead-letters ${action}: ${skipped.taskId.slice(0, 8)}: ${skipped.message} [${skipped.code}]`);
      if (answer.more) ctx.out.note('more dead letters match: run it again for the next 1000');
      if (answer.skipped.length > 0) throw new CliError('partial', `${answer.skipped.length} task${answer.skipped.length === 1 ? ' was' : 's were'} not ${verb}`);
    },
  };
}

async function selectionOf(ctx: CommandContext, command: string, args: ParsedArgs): Promise<{ taskIds: string[] } | { filter: { image?: string; name?: string } }> {
  const image = stringOption(args, 'image');
  const name = stringOption(args, 'name');
  if (flagOption(args, 'all')) {
    expectArgs(command, args, 0, 0, '');
    return { filter: { ...(image !== undefined ? { image } : {}), ...(name !== undefined ? { name } : {}) } };
  }
  if (image !== undefined || name !== undefined) throw new UsageError('--image and --name go with --all', command);
  const prefixes = expectArgs(command, args, 1, 1000, 'task ids (or --all)');
  const client = ctx.client();
  return { taskIds: await Promise.all(prefixes.map((prefix) => resolveTaskId(client, prefix))) };
}

export const DEAD_LETTER_COMMANDS: CommandSpec[] = [ls, bulk('requeue'), bulk('dismiss')];
