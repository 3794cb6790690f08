// Tasks: ls, get, logs, cancel, files, cp, submit -f.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { formatBytes } from '@wharf/proto/units';
import { cell } from '@wharf/proto/console-format';
import { parse as parseYaml } from 'yaml';
import type { ApiClient } from '../api-client.js';
import { TASK_STATUSES, UNFINISHED_STATUSES, type FileView, type TaskView, type WorkerView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import { downloadFile } from '../download.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { resolveTaskId } from '../ids.js';
import { followTaskLog } from '../log-follower.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, intOption, stringOption } from '../parse-args.js';
import { readAllStdin } from '../prompt.js';
import { filesTable, taskDetails, tasksTable, workerNames, type WorkerNames } from '../views.js';
import { LogPrinter } from './log-printer.js';
import { OUTPUT_OPTION } from './shared-options.js';

const TASK_PAGE = 500;
export const MAX_LIST = 10_000;

/** Worker id → name for the tables (an empty map when the workers cannot be listed). */
export async function namesOfWorkers(client: ApiClient): Promise<WorkerNames> {
  const { workers } = await client.get<{ workers: WorkerView[] }>('/api/workers');
  return workerNames(workers);
}

/** The filters of `wharf ls` that go to GET /api/tasks as they are (the API checks them and names the bad one). */
const LS_FILTERS = ['worker', 'user', 'queue', 'dag', 'image', 'name', 'since'] as const;

/** The newest `limit` tasks matching the filters (statuses comma-separated), paging through the API; `total` counts every match. */
async function listTasks(client: ApiClient, filters: Record<string, string | undefined>, limit: number): Promise<{ tasks: TaskView[]; more: boolean; total: number | undefined }> {
  const tasks: TaskView[] = [];
  let cursor: string | undefined;
  let total: number | undefined;
  do {
    const page = await client.get<{ tasks: TaskView[]; nextCursor: string | null; total?: number }>('/api/tasks', {
      ...filters,
      limit: Math.min(TASK_PAGE, limit - tasks.length),
      cursor,
    });
    tasks.push(...page.tasks);
    total ??= page.total;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && tasks.length < limit);
  return { tasks, more: cursor !== undefined, total };
}

const ls: CommandSpec = {
  name: 'ls',
  usage: 'ls [-a] [--status S[,S…]] [--worker W] [--user U] [--queue Q] [--dag RUN] [--image I] [--name TEXT] [--since T] [--limit N] [-o json|yaml]',
  summary: 'your unfinished tasks, newest first (-a: all; filters)',
  description: [
    'Without options: the tasks that have not finished (queued, assigned, running). -a shows every',
    'status; --status the ones listed (comma-separated). The other filters narrow further, every',
    'one must hold: --worker (id or name of the worker of the latest attempt), --user (id or email;',
    'admins only), --queue, --dag (a DAG run id), --image (exactly), --name (a part of the name,',
    'any case), --since (an ISO time or a duration back from now: 30m, 24h, 7d). Admins see every',
    'user\'s tasks. IDs are shown as short as they can be while telling the rows apart; any unique',
    'prefix works in the other commands.',
    `Statuses: ${TASK_STATUSES.join(', ')}.`,
  ].join('\n'),
  examples: ['wharf ls', 'wharf ls -a --limit 20', 'wharf ls --status failed,cancelled --since 24h', 'wharf ls -a --worker gpu-1 --name train -o json'],
  options: [
    { name: 'all', short: 'a', help: 'every status, finished tasks too' },
    { name: 'status', value: 'S', help: 'only tasks with these statuses (comma-separated)', complete: 'status' },
    { name: 'worker', value: 'W', help: 'only tasks whose latest attempt ran on this worker (id or name)', complete: 'worker' },
    { name: 'user', value: 'U', help: 'only this user\'s tasks (id or email; admins)' },
    { name: 'queue', value: 'Q', help: 'only tasks of this queue', complete: 'queue' },
    { name: 'dag', value: 'RUN', help: 'only tasks of this DAG run', complete: 'dag' },
    { name: 'image', value: 'I', help: 'only tasks of this image' },
    { name: 'name', value: 'TEXT', help: 'only tasks whose name contains TEXT (any case)' },
    { name: 'since', value: 'T', help: 'only tasks created since T (ISO time, or 30m, 24h, 7d back)' },
    { name: 'limit', value: 'N', help: `at most N tasks (50; up to ${MAX_LIST})` },
    OUTPUT_OPTION,
  ],
  args: [],
  async run(ctx, args) {
    expectArgs('ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'ls');
    const limit = intOption('ls', args, 'limit', 1, MAX_LIST) ?? 50;
    const status = stringOption(args, 'status');
    const statuses = status?.split(',').map((s) => s.trim());
    const unknown = statuses?.filter((s) => !(TASK_STATUSES as readonly string[]).includes(s)) ?? [];
    if (statuses !== undefined && (unknown.length > 0 || statuses.length === 0)) {
      throw new UsageError(`--status takes one or more of ${TASK_STATUSES.join(', ')}, comma-separated (got "${status}")`, 'ls');
    }
    const all = flagOption(args, 'all');
    if (all && status !== undefined) throw new UsageError('-a and --status exclude each other', 'ls');
    const filters: Record<string, string | undefined> = Object.fromEntries(LS_FILTERS.map((name) => [name, stringOption(args, name)]));
    // without -a or --status: the unfinished tasks, in one request
    filters.status = all ? undefined : (statuses ?? UNFINISHED_STATUSES).join(',');
    const client = ctx.client();
    const { tasks, more, total } = await listTasks(client, filters, limit);
    if (format !== 'table') {
      ctx.out.data(format, tasks, () => '');
      return;
    }
    const filtered = LS_FILTERS.some((name) => filters[name] !== undefined);
    if (tasks.length === 0) {
      ctx.out.note(
        filtered
          ? 'no tasks match these filters'
          : status
            ? `no ${statuses!.join(' or ')} tasks`
            : all
              ? 'no tasks yet'
              : 'no unfinished tasks (wharf ls -a shows the finished ones)',
      );
      return;
    }
    const names = await namesOfWorkers(client);
    ctx.out.line(tasksTable(tasks, names, ctx.out.style, ctx.io.now()));
    if (more) ctx.out.note(ctx.out.errStyle.dim(`showing the newest ${tasks.length}${total !== undefined ? ` of ${total}` : ''}; more exist (--limit N)`));
  },
};

const get: CommandSpec = {
  name: 'get',
  usage: 'get TASK [-o json|yaml]',
  summary: 'one task in detail: attempts, output files, events',
  description: 'TASK is a task id or a unique prefix of one (as ls shows it).',
  examples: ['wharf get 3f2a', 'wharf get 3f2a9c1e -o json'],
  options: [OUTPUT_OPTION],
  args: ['task'],
  async run(ctx, args) {
    const [prefix] = expectArgs('get', args, 1, 1, 'a task id (or a prefix of one)');
    const format = parseOutputFormat(stringOption(args, 'output'), 'get');
    const client = ctx.client();
    const id = await resolveTaskId(client, prefix!);
    const { task } = await client.get<{ task: TaskView }>(`/api/tasks/${id}`);
    if (format !== 'table') {
      ctx.out.data(format, task, () => '');
      return;
    }
    ctx.out.line(taskDetails(task, await namesOfWorkers(client), ctx.out.style, ctx.io.now()));
  },
};

interface LogLinesPage {
  lines: { n: number; attempt: number; stream: string; ts: string | null; text: string }[];
  next: string | null;
}

const logs: CommandSpec = {
  name: 'logs',
  usage: 'logs [-f] TASK | logs TASK --grep TEXT [--regex] [-i] [--stream S] [--attempt N]',
  summary: 'a task\'s log; -f follows it live until the task ends; --grep searches it on the master',
  description: [
    'Without -f: the log stored so far, as GET /api/tasks/:id/logs gives it (stdout and stderr',
    'interleaved in the order they were written, a marker line before each attempt after the first).',
    'With -f: the stored log and then the live one over the WebSocket, the task\'s stdout on stdout',
    'and its stderr on stderr, ending by itself when the task ends (exit 0; Ctrl-C stops following,',
    'leaves the task running and exits 130).',
    'With --grep (or --stream/--attempt): the matching lines of the whole stored log, searched on the',
    'master, each as ATTEMPT:LINE: TEXT (the line\'s number within its attempt); exit 1 when none matches.',
  ].join('\n'),
  examples: ['wharf logs 3f2a', 'wharf logs -f 3f2a 2>errors.txt', "wharf logs 3f2a --grep 'out of memory' -i", "wharf logs 3f2a --grep '^E[0-9]+' --regex --attempt 2"],
  options: [
    { name: 'follow', short: 'f', help: 'follow the live log until the task ends' },
    { name: 'grep', value: 'TEXT', help: 'only the lines containing TEXT (searched on the master)' },
    { name: 'regex', help: 'TEXT is a regular expression (RE2 syntax)' },
    { name: 'ignore-case', short: 'i', help: 'the search ignores upper and lower case' },
    { name: 'stream', value: 'S', help: 'only stdout, stderr or system lines' },
    { name: 'attempt', value: 'N', help: 'only attempt N' },
  ],
  args: ['task'],
  async run(ctx, args) {
    const [prefix] = expectArgs('logs', args, 1, 1, 'a task id (or a prefix of one)');
    const client = ctx.client();
    const grep = stringOption(args, 'grep');
    const stream = stringOption(args, 'stream');
    const attempt = intOption('logs', args, 'attempt', 1, 999_999);
    const searching = grep !== undefined || stream !== undefined || attempt !== undefined;
    if (searching && flagOption(args, 'follow')) throw new UsageError('-f follows the whole log; leave out --grep, --stream and --attempt', 'logs');
    if (!searching && (flagOption(args, 'regex') || flagOption(args, 'ignore-case'))) throw new UsageError('--regex and -i go with --grep TEXT', 'logs');
    const id = await resolveTaskId(client, prefix!);
    if (searching) {
      // every matching line, a page at a time (the master's answer names where the next starts)
      let after: string | undefined;
      let found = 0;
      do {
        const page: LogLinesPage = await client.get<LogLinesPage>(`/api/tasks/${id}/logs`, {
          grep,
          regex: flagOption(args, 'regex') ? '1' : undefined,
          ignoreCase: flagOption(args, 'ignore-case') ? '1' : undefined,
          stream,
          attempt,
          after,
          format: 'lines',
          limit: 5000,
        });
        for (const line of page.lines) ctx.io.stdout.write(`${line.attempt}:${line.n}: ${line.text}\n`);
        found += page.lines.length;
        after = page.next ?? undefined;
      } while (after !== undefined);
      return found === 0 ? EXIT_ERROR : undefined;
    }
    if (!flagOption(args, 'follow')) {
      const response = await client.open('GET', `/api/tasks/${id}/logs`, { idleTimeoutMs: 120_000 });
      for await (const chunk of response) ctx.io.stdout.write(chunk as Buffer);
      return;
    }
    const printer = new LogPrinter(ctx, true);
    const controller = new AbortController();
    const stop = ctx.io.onSignal(() => controller.abort());
    try {
      const end = await followTaskLog(client, id, {
        onChunk: (chunk) => printer.chunk(chunk),
        onReconnect: (why, delayMs) => printer.note(`log stream dropped (${why}); reconnecting in ${delayMs}ms`),
        signal: controller.signal,
      });
      printer.finish();
      if (end === 'detached') {
        printer.note(`stopped following; task ${id.slice(0, 8)} keeps running`);
        return EXIT_INTERRUPTED;
      }
      printer.note(`task ${id.slice(0, 8)} ${end.status}${end.exitCode === null ? '' : ` (exit ${end.exitCode})`}`);
      return undefined;
    } finally {
      stop();
    }
  },
};

const cancel: CommandSpec = {
  name: 'cancel',
  usage: 'cancel TASK...',
  summary: 'cancel tasks that have not finished',
  description: 'A running task\'s container is stopped (SIGTERM, then SIGKILL after the master\'s grace period).',
  options: [],
  args: ['task'],
  variadic: true,
  async run(ctx, args) {
    const prefixes = expectArgs('cancel', args, 1, 1000, 'a task id (or a prefix of one)');
    const client = ctx.client();
    let failed = 0;
    for (const prefix of prefixes) {
      try {
        const id = await resolveTaskId(client, prefix);
        const { task } = await client.request<{ task: TaskView }>('DELETE', `/api/tasks/${id}`);
        ctx.out.line(`cancelled ${task.id} (${cell(task.name, 60)})`);
      } catch (error: unknown) {
        if (!(error instanceof CliError)) throw error;
        failed += 1;
        ctx.out.note(`wharf cancel: ${prefix}: ${error.message} [${error.code}]`);
      }
    }
    return failed > 0 ? EXIT_ERROR : undefined;
  },
};

const files: CommandSpec = {
  name: 'files',
  usage: 'files TASK [-o json|yaml]',
  summary: 'a task\'s output files with their sizes and sha256',
  options: [OUTPUT_OPTION],
  args: ['task'],
  async run(ctx, args) {
    const [prefix] = expectArgs('files', args, 1, 1, 'a task id (or a prefix of one)');
    const format = parseOutputFormat(stringOption(args, 'output'), 'files');
    const client = ctx.client();
    const id = await resolveTaskId(client, prefix!);
    const list = (await client.get<{ files: FileView[] }>(`/api/files/${id}`)).files;
    ctx.out.data(format, list, () => {
      if (list.length === 0) return ctx.out.style.dim(`task ${id.slice(0, 8)} has no output files (a task writes them to /output)`);
      const total = list.reduce((sum, f) => sum + f.size, 0);
      return `${filesTable(list, ctx.out.style)}\n${ctx.out.style.dim(`${list.length} file${list.length === 1 ? '' : 's'}, ${formatBytes(total)}`)}`;
    });
  },
};

/** `TASK:PATH` → its two halves, PATH without leading ./ or /, nor a trailing /. */
export function splitRemote(source: string): { task: string; path: string } {
  const colon = source.indexOf(':');
  if (colon <= 0) throw new UsageError(`the source is TASK:PATH (got "${source}")`, 'cp');
  const path = source
    .slice(colon + 1)
    .replace(/^(\.\/|\/)+/, '')
    .replace(/\/+$/, '');
  return { task: source.slice(0, colon), path };
}

/** Where each file goes: one file to LOCAL (or into it, when a directory), a folder's files under LOCAL. */
export function planCopy(list: readonly FileView[], path: string, local: string, localIsDir: boolean): { file: FileView; target: string }[] {
  const exact = list.find((f) => f.path === path);
  if (exact) {
    const target = localIsDir || local.endsWith('/') || local.endsWith(sep) ? join(local, basename(exact.path)) : local;
    return [{ file: exact, target }];
  }
  const inside = list.filter((f) => path === '' || f.path.startsWith(`${path}/`));
  const root = resolve(local);
  return inside.map((file) => {
    const rel = path === '' ? file.path : file.path.slice(path.length + 1);
    const target = resolve(root, rel);
    // paths come normalised from the master; refuse anything that would leave LOCAL regardless
    if (relative(root, target).startsWith('..') || relative(root, target) === '') {
      throw new CliError('validation_failed', `${file.path}: would be written outside ${local}; refused`);
    }
    return { file, target };
  });
}

const cp: CommandSpec = {
  name: 'cp',
  usage: 'cp TASK:PATH LOCAL',
  summary: 'download an output file or folder, checked against its sha256',
  description: [
    'PATH is a file the task wrote under /output (as `wharf files` lists it), or a folder: then every',
    'file under it is saved below LOCAL, keeping the folder structure (`TASK:` alone: all files).',
    'LOCAL may be a directory (the file keeps its name) or `-` for stdout. Each file is checked',
    'against the sha256 the master announces; a file on disk appears only when it matches, and a',
    'mismatch is an error (exit 1). With `-` the bytes are already written when a mismatch shows.',
  ].join('\n'),
  examples: ['wharf cp 3f2a:result.csv .', 'wharf cp 3f2a:models/ ./models', 'wharf cp 3f2a:numbers.txt - | head'],
  options: [],
  args: ['task', 'file'],
  async run(ctx, args) {
    const [source, local] = expectArgs('cp', args, 2, 2, 'TASK:PATH and a local path');
    const { task: prefix, path } = splitRemote(source!);
    const client = ctx.client();
    const id = await resolveTaskId(client, prefix);
    const list = (await client.get<{ files: FileView[] }>(`/api/files/${id}`)).files;
    if (local === '-') {
      const file = list.find((f) => f.path === path);
      if (!file) throw new CliError('not_found', `task ${id.slice(0, 8)} has no file "${path}" (- takes one file; wharf files ${id.slice(0, 8)})`);
      await downloadFile(client, file, { sink: ctx.io.stdout });
      return;
    }
    const target = resolve(ctx.io.cwd, local!);
    const localIsDir = existsSync(target) && statSync(target).isDirectory();
    const plan = planCopy(list, path, local!.endsWith('/') ? `${target}/` : target, localIsDir);
    if (plan.length === 0) {
      const known = list.slice(0, 8).map((f) => f.path).join(', ');
      throw new CliError('not_found', `task ${id.slice(0, 8)} has no file or folder "${path}"${list.length ? ` (its files: ${known}${list.length > 8 ? ', …' : ''})` : ' (it has no output files)'}`);
    }
    for (const { file, target: to } of plan) {
      const got = await downloadFile(client, file, { target: to });
      ctx.out.line(`${file.path} -> ${relative(ctx.io.cwd, to) || to}  ${formatBytes(got.bytes)}  sha256 ${got.sha256.slice(0, 16)}… ok`);
    }
  },
};

/** A job file: one task (an object), a list of them, or `{tasks: [...]}`. */
export function parseJobFile(text: string, name: string): { single: boolean; tasks: unknown[] } {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error: unknown) {
    throw new CliError('validation_failed', `${name}: not valid YAML or JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  if (Array.isArray(value)) return { single: false, tasks: value };
  if (typeof value === 'object' && value !== null) {
    const tasks = (value as { tasks?: unknown }).tasks;
    if (Array.isArray(tasks) && Object.keys(value).length === 1) return { single: false, tasks };
    return { single: true, tasks: [value] };
  }
  throw new CliError('validation_failed', `${name}: must hold a task (an object with image, command, ...) or a list of them`);
}

const submit: CommandSpec = {
  name: 'submit',
  usage: 'submit -f FILE [-o json|yaml]',
  summary: 'queue the task(s) of a YAML or JSON file (the API\'s fields)',
  description: [
    'FILE (or - for stdin) holds one task, a list of tasks, or {tasks: [...]}, with the fields of',
    'POST /api/tasks (image, command, name, env, runtime, resources, priority, maxRetries,',
    'timeoutSeconds, labels). A list is submitted all or nothing (POST /api/tasks/batch, up to 1000):',
    'one bad task refuses the whole file, naming tasks[i].field.',
  ].join('\n'),
  examples: [
    'wharf submit -f job.yaml',
    "printf 'image: wharf/busybox\\ncommand: echo hi\\n' | wharf submit -f -",
  ],
  options: [{ name: 'file', short: 'f', value: 'FILE', help: 'the job file (YAML or JSON; - reads stdin)', complete: 'file' }, OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('submit', args, 0, 0, '');
    const file = stringOption(args, 'file');
    if (file === undefined) throw new UsageError('needs -f FILE (a YAML or JSON job file, or - for stdin)', 'submit');
    const format = parseOutputFormat(stringOption(args, 'output'), 'submit');
    let text: string;
    if (file === '-') text = await readAllStdin(ctx.io);
    else {
      try {
        text = readFileSync(resolve(ctx.io.cwd, file), 'utf8');
      } catch (error: unknown) {
        throw new CliError('file', `${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const job = parseJobFile(text, file === '-' ? 'stdin' : file);
    const client = ctx.client();
    const tasks = job.single
      ? [(await client.request<{ task: TaskView }>('POST', '/api/tasks', { json: job.tasks[0] })).task]
      : (await client.request<{ tasks: TaskView[] }>('POST', '/api/tasks/batch', { json: { tasks: job.tasks } })).tasks;
    ctx.out.data(format, job.single ? tasks[0] : tasks, () =>
      tasks.map((t) => `submitted ${t.id} (${cell(t.name, 60)}): ${ctx.out.style.status(t.status)}`).join('\n'),
    );
  },
};

export const TASK_COMMANDS: CommandSpec[] = [ls, get, logs, cancel, files, cp, submit];

