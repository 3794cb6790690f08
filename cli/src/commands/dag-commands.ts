// DAG runs: dag run FILE [--follow], dag ls, dag get, dag metrics, dag cancel, dag retry, dag rerun.
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { cell } from '@wharf/proto/console-format';
import type { DagRunMetricsView, DagView } from '../api-types.js';
import type { CommandContext } from '../command-context.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED } from '../errors.js';
import { resolveDagId } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, intOption, stringOption } from '../parse-args.js';
import { readAllStdin } from '../prompt.js';
import { cacheComparison, dagDetails, dagMetricsTable, dagProgress, dagRunsTable, formatMs } from '../views.js';
import { namesOfWorkers } from './task-commands.js';
import { OUTPUT_OPTION } from './shared-options.js';

const FOLLOW_POLL_MS = 1000;

/** JSON for .json files and for text that starts like JSON; YAML otherwise. */
export function dagContentType(file: string, text: string): string {
  return extname(file).toLowerCase() === '.json' || /^\s*\{/.test(text) ? 'application/json' : 'application/yaml';
}

/** Prints each task's state as it changes until the run ends (or Ctrl-C); answers the exit status. */
async function followRun(ctx: CommandContext, first: DagView): Promise<number> {
  const client = ctx.client();
  const s = ctx.out.style;
  const seen = new Map<string, string>();
  const show = (run: DagView) => {
    for (const task of run.tasks) {
      if (seen.get(task.name) === task.status) continue;
      seen.set(task.name, task.status);
      const why = task.reason && task.status !== 'succeeded' && task.status !== 'running' ? `  ${s.dim(cell(task.reason, 100))}` : '';
      ctx.out.line(`  ${cell(task.name, 63)}: ${s.status(task.status)}${task.taskId ? s.dim(` (task ${task.taskId.slice(0, 8)})`) : ''}${why}`);
    }
  };
  const stopped = new AbortController();
  const stopSignals = ctx.io.onSignal(() => stopped.abort());
  try {
    let run = first;
    show(run);
    while (run.status === 'running') {
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, FOLLOW_POLL_MS);
        stopped.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolveWait();
        }, { once: true });
      });
      if (stopped.signal.aborted) {
        ctx.out.note(`stopped following; DAG run ${run.id.slice(0, 8)} keeps running (wharf dag get ${run.id.slice(0, 8)})`);
        return EXIT_INTERRUPTED;
      }
      run = (await client.get<{ dag: DagView }>(`/api/dags/${run.id}`)).dag;
      show(run);
    }
    const took = run.finishedAt ? ` in ${formatMs(Date.parse(run.finishedAt) - Date.parse(run.createdAt))}` : '';
    ctx.out.line(`DAG run ${run.id.slice(0, 8)} ${s.status(run.status)}${took}: ${dagProgress(run)} tasks done`);
    return run.status === 'succeeded' ? 0 : run.status === 'cancelled' ? EXIT_INTERRUPTED : EXIT_ERROR;
  } finally {
    stopSignals();
  }
}

const dagRun: CommandSpec = {
  name: 'dag run',
  usage: 'dag run FILE [--follow] [-o json|yaml]',
  summary: 'submit a DAG file (YAML or JSON) as a new run',
  description: [
    'FILE (or - for stdin) is a DAG file as docs/DAGS.md describes it; the master checks it exactly',
    'like POST /api/dags and names the problem when it refuses it (a cycle, an unknown dependency).',
    '--follow prints each task\'s state as it changes until the run ends; the exit status is then 0',
    'when the run succeeded, 1 when it failed, 130 when it was cancelled (Ctrl-C stops following and',
    'leaves the run going).',
  ].join('\n'),
  examples: ['wharf dag run pipeline.yaml --follow'],
  options: [{ name: 'follow', short: 'f', help: 'print the tasks\' states until the run ends' }, OUTPUT_OPTION],
  args: ['file'],
  async run(ctx, args) {
    const [file] = expectArgs('dag run', args, 1, 1, 'a DAG file (YAML or JSON)');
    const format = parseOutputFormat(stringOption(args, 'output'), 'dag run');
    let text: string;
    if (file === '-') text = await readAllStdin(ctx.io, 1024 * 1024 + 1);
    else {
      try {
        text = readFileSync(resolve(ctx.io.cwd, file!), 'utf8');
      } catch (error: unknown) {
        throw new CliError('file', `${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const { dag, warnings } = await ctx.client().request<{ dag: DagView; warnings?: { path: string; message: string }[] }>('POST', '/api/dags', {
      body: text,
      contentType: dagContentType(file!, text),
    });
    // fields of another engine's file that the master ignored: a note, not data
    for (const warning of warnings ?? []) ctx.out.note(ctx.out.errStyle.dim(`warning: ${warning.path}: ${warning.message}`));
    ctx.out.data(format, dag, () =>
      `submitted DAG run ${dag.id} (${cell(dag.name, 63)}): ${dag.tasks.length} task${dag.tasks.length === 1 ? '' : 's'}`,
    );
    if (flagOption(args, 'follow')) return followRun(ctx, dag);
    return undefined;
  },
};

const dagLs: CommandSpec = {
  name: 'dag ls',
  usage: 'dag ls [--name NAME] [--limit N] [-o json|yaml]',
  summary: 'DAG runs, newest first',
  options: [
    { name: 'name', value: 'NAME', help: 'only runs of this DAG', complete: 'dagName' },
    { name: 'limit', value: 'N', help: 'at most N runs (50; up to 500)' },
    OUTPUT_OPTION,
  ],
  args: [],
  async run(ctx, args) {
    expectArgs('dag ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'dag ls');
    const limit = intOption('dag ls', args, 'limit', 1, 500) ?? 50;
    const { dags } = await ctx.client().get<{ dags: DagView[] }>('/api/dags', { limit, name: stringOption(args, 'name') });
    ctx.out.data(format, dags, () => (dags.length === 0 ? ctx.out.style.dim('no DAG runs yet') : dagRunsTable(dags, ctx.out.style, ctx.io.now())));
  },
};

const dagGet: CommandSpec = {
  name: 'dag get',
  usage: 'dag get RUN [-o json|yaml]',
  summary: 'one DAG run: its tasks, inputs (cache hit or miss), artifacts',
  description: 'RUN is a run id or a unique prefix of one (among your newest 500 runs).',
  options: [OUTPUT_OPTION],
  args: ['dag'],
  async run(ctx, args) {
    const [prefix] = expectArgs('dag get', args, 1, 1, 'a DAG run id (or a prefix of one)');
    const format = parseOutputFormat(stringOption(args, 'output'), 'dag get');
    const client = ctx.client();
    const id = await resolveDagId(client, prefix!);
    const { dag } = await client.get<{ dag: DagView }>(`/api/dags/${id}`);
    if (format !== 'table') {
      ctx.out.data(format, dag, () => '');
      return;
    }
    ctx.out.line(dagDetails(dag, await namesOfWorkers(client), ctx.out.style, ctx.io.now()));
  },
};

const dagMetrics: CommandSpec = {
  name: 'dag metrics',
  usage: 'dag metrics NAME [--limit N] [-o json|yaml]',
  summary: 'a DAG\'s runs with their metrics (duration, cache hits, bytes)',
  options: [{ name: 'limit', value: 'N', help: 'at most N runs (20; up to 500)' }, OUTPUT_OPTION],
  args: ['dagName'],
  async run(ctx, args) {
    const [name] = expectArgs('dag metrics', args, 1, 1, 'a DAG name');
    const format = parseOutputFormat(stringOption(args, 'output'), 'dag metrics');
    const limit = intOption('dag metrics', args, 'limit', 1, 500) ?? 20;
    const { runs } = await ctx.client().get<{ runs: DagRunMetricsView[] }>(`/api/dags/${encodeURIComponent(name!)}/metrics`, { limit });
    ctx.out.data(format, runs, () => {
      if (runs.length === 0) return ctx.out.style.dim(`no runs of ${name}`);
      const comparison = cacheComparison(runs);
      return dagMetricsTable(runs, ctx.out.style, ctx.io.now()) + (comparison ? `\n${comparison}` : '');
    });
  },
};

const dagCancel: CommandSpec = {
  name: 'dag cancel',
  usage: 'dag cancel RUN',
  summary: 'cancel a DAG run and its unfinished tasks',
  options: [],
  args: ['dag'],
  async run(ctx, args) {
    const [prefix] = expectArgs('dag cancel', args, 1, 1, 'a DAG run id (or a prefix of one)');
    const client = ctx.client();
    const id = await resolveDagId(client, prefix!);
    const { dag } = await client.request<{ dag: DagView }>('DELETE', `/api/dags/${id}`);
    ctx.out.line(`cancelled DAG run ${dag.id} (${cell(dag.name, 63)})`);
  },
};

/** dag retry / dag rerun: a new run made from an ended one (POST /api/dags/:id/retry|rerun). */
function newRunFrom(kind: 'retry' | 'rerun'): CommandSpec {
  const name = `dag ${kind}`;
  return {
    name,
    usage: `${name} RUN [--follow] [-o json|yaml]`,
    summary:
      kind === 'retry'
        ? 'retry an ended run from its failed tasks (a new run; succeeded tasks are reused, not run again)'
        : 'run an ended run\'s file anew, as a new run',
    description:
      kind === 'retry'
        ? 'The new run takes over every task that succeeded in RUN (same task, same outputs) and runs the\nfailed, cancelled and skipped ones again, with everything that depends on them. --follow as for dag run.'
        : 'Nothing is reused (the workers\' caches still serve identical inputs). --follow as for dag run.',
    options: [{ name: 'follow', short: 'f', help: 'print the tasks\' states until the new run ends' }, OUTPUT_OPTION],
    args: ['dag'],
    async run(ctx, args) {
      const [prefix] = expectArgs(name, args, 1, 1, 'a DAG run id (or a prefix of one)');
      const format = parseOutputFormat(stringOption(args, 'output'), name);
      const client = ctx.client();
      const id = await resolveDagId(client, prefix!);
      const { dag } = await client.request<{ dag: DagView }>('POST', `/api/dags/${id}/${kind}`);
      const reused = dag.tasks.filter((t) => t.reusedFrom).length;
      ctx.out.data(format, dag, () =>
        kind === 'retry'
          ? `DAG run ${dag.id} (${cell(dag.name, 63)}) retries ${id.slice(0, 8)}: ${reused} task${reused === 1 ? '' : 's'} reused, ${dag.tasks.length - reused} to run again`
          : `DAG run ${dag.id} (${cell(dag.name, 63)}) re-runs ${id.slice(0, 8)}: ${dag.tasks.length} task${dag.tasks.length === 1 ? '' : 's'}`,
      );
      if (flagOption(args, 'follow')) return followRun(ctx, dag);
      return undefined;
    },
  };
}

export const DAG_COMMANDS: CommandSpec[] = [dagRun, dagLs, dagGet, dagMetrics, dagCancel, newRunFrom('retry'), newRunFrom('rerun')];
