// Queues: ls and get for everyone, create, set and rm for admins (the master answers 403 to others).
import type { QueueView } from '../api-types.js';
import type { CommandSpec, OptionSpec, ParsedArgs } from '../command-spec.js';
import { UsageError } from '../errors.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, listOption, stringOption } from '../parse-args.js';
import { queueDetails, queuesTable } from '../views.js';
import { OUTPUT_OPTION } from './shared-options.js';

const SETTINGS: OptionSpec[] = [
  { name: 'max-concurrency', value: 'N', help: 'tasks placed at once (assigned or running)' },
  { name: 'max-tasks', value: 'N', help: 'unfinished tasks the queue holds; submissions past it are refused' },
  { name: 'max-cpu', value: 'CORES', help: 'cores in use at once' },
  { name: 'max-memory', value: 'SIZE', help: 'memory in use at once: 64Gi' },
  { name: 'max-gpus', value: 'N', help: 'GPUs in use at once' },
  { name: 'default-priority', value: 'N', help: 'the priority of a task submitted without one (50)' },
  { name: 'preemption', value: 'POLICY', help: 'Never (default) or PreemptLowerPriority' },
  { name: 'strategy', value: 'S', help: 'round-robin (default), binpack or spread' },
  { name: 'selector', value: 'K=V', multiple: true, help: 'a label the queue\'s workers must carry (repeatable)' },
  { name: 'constraint', value: 'K:OP[:V,..]', multiple: true, help: 'a condition on the worker\'s labels: OP in, notIn, exists, notExists (repeatable)' },
  { name: 'description', value: 'TEXT', help: 'what the queue is for' },
];

const FIELDS: Record<string, string> = {
  'max-concurrency': 'maxConcurrency',
  'max-tasks': 'maxTasks',
  'max-cpu': 'maxCpu',
  'max-memory': 'maxMemory',
  'max-gpus': 'maxGpus',
  'default-priority': 'defaultPriority',
  preemption: 'preemptionPolicy',
  strategy: 'strategy',
  description: 'description',
};
const NUMBERS = new Set(['max-concurrency', 'max-tasks', 'max-gpus', 'default-priority']);

/** The request body from the options; on `set`, `none` removes a cap. The master validates the values. */
function queueBody(command: string, args: ParsedArgs, clearable: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(FIELDS)) {
    const value = stringOption(args, option);
    if (value === undefined) continue;
    if (value === 'none' && clearable) body[field] = null;
    else if (NUMBERS.has(option)) {
      if (!/^\d+$/.test(value)) throw new UsageError(`--${option} takes a whole number${clearable ? ' or none' : ''} (got "${value}")`, command);
      body[field] = Number(value);
    } else body[field] = value;
  }
  const selector = listOption(args, 'selector');
  if (selector.length > 0) {
    const labels: Record<string, string> = {};
    for (const pair of selector) {
      const split = pair.indexOf('=');
      if (split <= 0) throw new UsageError(`--selector takes K=V (got "${pair}")`, command);
      labels[pair.slice(0, split)] = pair.slice(split + 1);
    }
    body.workerSelector = labels;
  }
  const constraints = listOption(args, 'constraint');
  if (constraints.length > 0) {
    body.constraints = constraints.map((text) => {
      const [key, op, values] = text.split(':');
      if (!key || !op) throw new UsageError(`--constraint takes KEY:OP[:V1,V2] (got "${text}")`, command);
      return values === undefined ? { key, op } : { key, op, values: values.split(',') };
    });
  }
  return body;
}

const ls: CommandSpec = {
  name: 'queue ls',
  usage: 'queue ls [-o json|yaml]',
  summary: 'the queues with what they hold and use against their caps',
  options: [OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('queue ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'queue ls');
    const { queues } = await ctx.client().get<{ queues: QueueView[] }>('/api/queues');
    ctx.out.data(format, queues, () => queuesTable(queues, ctx.out.style));
  },
};

const get: CommandSpec = {
  name: 'queue get',
  usage: 'queue get NAME [-o json|yaml]',
  summary: 'one queue: its settings, usage against its caps, and each user\'s tasks and fair share',
  options: [OUTPUT_OPTION],
  args: ['queue'],
  async run(ctx, args) {
    const [name] = expectArgs('queue get', args, 1, 1, 'a queue name');
    const format = parseOutputFormat(stringOption(args, 'output'), 'queue get');
    const { queue } = await ctx.client().get<{ queue: QueueView }>(`/api/queues/${encodeURIComponent(name!)}`);
    ctx.out.data(format, queue, () => queueDetails(queue, ctx.out.style));
  },
};

const create: CommandSpec = {
  name: 'queue create',
  usage: 'queue create NAME [--max-concurrency N] [--max-cpu CORES] [--max-memory SIZE] [--max-gpus N] [--strategy S] [--selector K=V]... [OPTIONS]',
  summary: 'make a queue (admins only)',
  description: 'Every option is optional; a queue without caps only names where tasks wait. Tasks choose it with `wharf run --queue NAME`.',
  examples: ['wharf queue create gpu-train --max-gpus 64 --strategy binpack --selector pool=gpu --default-priority 70'],
  options: [...SETTINGS, OUTPUT_OPTION],
  args: ['none'],
  async run(ctx, args) {
    const [name] = expectArgs('queue create', args, 1, 1, 'a name for the queue');
    const format = parseOutputFormat(stringOption(args, 'output'), 'queue create');
    const { queue } = await ctx.client().request<{ queue: QueueView }>('POST', '/api/queues', { json: { name, ...queueBody('queue create', args, false) } });
    ctx.out.data(format, queue, () => queuesTable([queue], ctx.out.style));
  },
};

const set: CommandSpec = {
  name: 'queue set',
  usage: 'queue set NAME [--max-concurrency N|none] [--max-cpu CORES|none] ... [OPTIONS]',
  summary: 'change a queue (admins only); none removes a cap',
  examples: ['wharf queue set gpu-train --max-gpus 128 --max-concurrency none'],
  options: [...SETTINGS, OUTPUT_OPTION],
  args: ['queue'],
  async run(ctx, args) {
    const [name] = expectArgs('queue set', args, 1, 1, 'a queue name');
    const format = parseOutputFormat(stringOption(args, 'output'), 'queue set');
    const body = queueBody('queue set', args, true);
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option', 'queue set');
    const { queue } = await ctx.client().request<{ queue: QueueView }>('PATCH', `/api/queues/${encodeURIComponent(name!)}`, { json: body });
    ctx.out.data(format, queue, () => queuesTable([queue], ctx.out.style));
  },
};

const rm: CommandSpec = {
  name: 'queue rm',
  usage: 'queue rm NAME',
  summary: 'delete a queue (admins only); refused while it holds queued or running tasks, and for default',
  options: [],
  args: ['queue'],
  async run(ctx, args) {
    const [name] = expectArgs('queue rm', args, 1, 1, 'a queue name');
    await ctx.client().request('DELETE', `/api/queues/${encodeURIComponent(name!)}`);
    ctx.out.line(`deleted queue ${name!}`);
  },
};

export const QUEUE_COMMANDS: CommandSpec[] = [ls, get, create, set, rm];
