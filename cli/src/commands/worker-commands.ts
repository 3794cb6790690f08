// Workers: the list, and drain / activate (admins).
import { cell } from '@wharf/proto/console-format';
import type { WorkerView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import { resolveWorker } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, stringOption } from '../parse-args.js';
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

export const WORKER_COMMANDS: CommandSpec[] = [workers, drainOrActivate('drain'), drainOrActivate('activate')];
