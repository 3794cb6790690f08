// Workers: the list, drain / activate and rm (admins).
import { cell } from '@wharf/proto/console-format';
import type { RemovedWorkerView, WorkerView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import { Interrupted, UsageError } from '../errors.js';
import { resolveWorker } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, stringOption } from '../parse-args.js';
import { askKey, isInteractive } from '../prompt.js';
import { workersTable } from '../views.js';
import { OUTPUT_OPTION } from './shared-options.js';

const workers: CommandSpec = {
  name: 'workers',
  usage: 'workers [-o json|yaml]',
  summary: 'the workers: status, reserved/capacity, tasks, heartbeat',
  options: [OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('workers', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'workers');
    const list = (await ctx.client().get<{ workers: WorkerView[] }>('/api/workers')).workers;
    ctx.out.data(format, list, () =>
      list.length === 0 ? ctx.out.style.dim('no workers have joined yet') : workersTable(list, ctx.out.style, ctx.io.now()),
    );
  },
};

function drainOrActivate(action: 'drain' | 'activate'): CommandSpec {
  const draining = action === 'drain';
  return {
    name: action,
    usage: `${action} WORKER`,
    summary: draining ? 'stop placing new tasks on a worker (admins)' : 'undo a drain (admins)',
    description: 'WORKER is a worker\'s name or a unique prefix of its id (as `wharf workers` shows them).',
    options: [],
    args: ['worker'],
    async run(ctx, args) {
      const [prefix] = expectArgs(action, args, 1, 1, 'a worker name or id');
      const client = ctx.client();
      const target = await resolveWorker(client, prefix!);
      const { worker } = await client.request<{ worker: WorkerView }>('POST', `/api/workers/${target.id}/${action}`);
      ctx.out.line(
        draining
          ? `worker ${cell(worker.name, 60)} (${worker.id.slice(0, 8)}) is draining: no new tasks are placed on it; the ${worker.runningTasks} it runs finish`
          : `worker ${cell(worker.name, 60)} (${worker.id.slice(0, 8)}) is ${worker.status}: it takes tasks again`,
      );
    },
  };
}

/**
 * What `wharf worker rm` says once the master removed the worker: the API answers its id and
 * name; what it ran comes from the worker's record read just before (`runningTasks`), and what
 * happens to those tasks is the master's rule for a removed worker (docs/API.md).
 */
export function removedWorkerMessage(removed: RemovedWorkerView, runningTasks: number): string {
  const head = `worker ${cell(removed.name, 60)} (${removed.id.slice(0, 8)}) is removed: its certificate is revoked and its connection closed`;
  const tasks =
    runningTasks === 0
      ? 'it ran no tasks'
      : `its ${runningTasks === 1 ? 'task is' : `${runningTasks} tasks are`} held until it must have stopped ${runningTasks === 1 ? 'it' : 'them'} ` +
        '(its fencing bound: stop-after + stop grace after the master last heard from it; `wharf ls` shows until when), ' +
        'then re-queued on other workers, not counted as retries';
  return `${head}; ${tasks}. It can come back only by joining again with a join token, as a new worker.`;
}

const rm: CommandSpec = {
  name: 'worker rm',
  usage: 'worker rm WORKER [--yes]',
  summary: 'remove a worker: revoke its certificate, re-queue its tasks (admins)',
  description: [
    'WORKER is a worker\'s name or a unique prefix of its id (as `wharf workers` shows them). The',
    'worker\'s certificate is revoked and its connection closed; its tasks are held until it must',
    'have stopped them (its fencing bound), then re-queued on other workers. It can come back only',
    'by joining again with a join token, as a new worker. Asks for confirmation on a terminal;',
    'without one (a script), --yes is required.',
  ].join('\n'),
  options: [{ name: 'yes', short: 'y', help: 'do not ask for confirmation (required without a terminal)' }],
  args: ['worker'],
  async run(ctx, args) {
    const [prefix] = expectArgs('worker rm', args, 1, 1, 'a worker name or id');
    const yes = flagOption(args, 'yes');
    if (!yes && !isInteractive(ctx.io)) throw new UsageError('no terminal to confirm on: pass --yes to remove the worker', 'worker rm');
    const client = ctx.client();
    const target = await resolveWorker(client, prefix!);
    if (!yes) {
      const tasks = target.runningTasks === 0 ? 'it runs no tasks' : `its ${target.runningTasks} task${target.runningTasks === 1 ? '' : 's'} will run elsewhere`;
      const key = await askKey(ctx.io, `remove worker ${cell(target.name, 60)} (${target.id.slice(0, 8)}, ${target.status}; ${tasks})? [y/N] `, ['y', 'n'], 'n');
      if (key === '\x03') throw new Interrupted();
      if (key !== 'y') {
        ctx.out.note(`worker ${cell(target.name, 60)} is not removed`);
        return;
      }
    }
    const { worker } = await client.request<{ worker: RemovedWorkerView }>('DELETE', `/api/workers/${encodeURIComponent(target.id)}`);
    ctx.out.line(removedWorkerMessage(worker, target.runningTasks));
  },
};

export const WORKER_COMMANDS: CommandSpec[] = [workers, drainOrActivate('drain'), drainOrActivate('activate'), rm];
