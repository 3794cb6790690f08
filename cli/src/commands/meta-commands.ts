// help, version, completion, and the hidden __complete the completion scripts call.
import type { ApiTokenView, DagView, JoinTokenView, QueueView, TaskView, WorkerView } from '../api-types.js';
import { ApiClient } from '../api-client.js';
import type { CommandSpec } from '../command-spec.js';
import { BASH_SCRIPT, complete, ZSH_SCRIPT, type CompletionSources } from '../completion.js';
import { UsageError } from '../errors.js';
import { expectArgs } from '../parse-args.js';
import { resolveTarget } from '../target.js';
import { CLI_VERSION } from '../version.js';
import type { CommandContext } from '../command-context.js';

/** How long Tab waits for the master before offering nothing. */
const COMPLETION_TIMEOUT_MS = 2000;

function completionSources(ctx: CommandContext): CompletionSources {
  const target = () => {
    try {
      return resolveTarget(ctx.config.load(), ctx.io.env, ctx.contextFlag);
    } catch {
      return undefined;
    }
  };
  return {
    contexts: () => {
      try {
        return Object.keys(ctx.config.load().contexts);
      } catch {
        return [];
      }
    },
    async fromMaster(kind) {
      const where = target();
      if (!where?.token) return [];
      const client = new ApiClient(where);
      const get = <T>(path: string, query?: Record<string, string | number>) =>
        client.request<T>('GET', path, { ...(query ? { query } : {}), idleTimeoutMs: COMPLETION_TIMEOUT_MS });
      try {
        switch (kind) {
          case 'task':
            return (await get<{ tasks: TaskView[] }>('/api/tasks', { limit: 200 })).tasks.map((t) => t.id);
          case 'worker':
            return (await get<{ workers: WorkerView[] }>('/api/workers')).workers.map((w) => w.name);
          case 'dag':
            return (await get<{ dags: DagView[] }>('/api/dags', { limit: 200 })).dags.map((d) => d.id);
          case 'dagName':
            return [...new Set((await get<{ dags: DagView[] }>('/api/dags', { limit: 500 })).dags.map((d) => d.name))];
          case 'token':
            return (await get<{ tokens: ApiTokenView[] }>('/api/tokens')).tokens.map((t) => t.name);
          case 'joinToken':
            // the ones that can still be revoked (admins only: others get nothing)
            return (await get<{ tokens: JoinTokenView[] }>('/api/join-tokens')).tokens.filter((t) => t.state !== 'revoked').map((t) => t.id);
          case 'queue':
            return (await get<{ queues: QueueView[] }>('/api/queues')).queues.map((q) => q.name);
        }
      } catch {
        return [];
      }
    },
  };
}

/** The meta commands need the whole table (for help and completion): command-table.ts passes it in. */
export function metaCommands(commands: () => readonly CommandSpec[], help: (words: string[]) => string): CommandSpec[] {
  return [
    {
      name: 'completion',
      usage: 'completion bash|zsh',
      summary: 'print the shell completion script for bash or zsh',
      description: [
        'Completes commands, options, statuses and output formats, saved contexts, and task ids,',
        'worker names, DAG runs, token names, join token ids and queue names from the current master.',
        '  bash: source <(wharf completion bash)          (in ~/.bashrc)',
        '  zsh:  source <(wharf completion zsh)           (in ~/.zshrc, after compinit)',
      ].join('\n'),
      options: [],
      args: ['shell'],
      run(ctx, args) {
        const [shell] = expectArgs('completion', args, 1, 1, 'a shell: bash or zsh');
        if (shell === 'bash') ctx.io.stdout.write(BASH_SCRIPT);
        else if (shell === 'zsh') ctx.io.stdout.write(ZSH_SCRIPT);
        else throw new UsageError(`completion scripts exist for bash and zsh (got "${shell}")`, 'completion');
      },
    },
    {
      name: 'version',
      usage: 'version',
      summary: 'the CLI\'s version (also --version)',
      options: [],
      args: [],
      run(ctx, args) {
        expectArgs('version', args, 0, 0, '');
        ctx.out.line(`wharf ${CLI_VERSION} (node ${process.version})`);
      },
    },
    {
      name: 'help',
      usage: 'help [COMMAND...]',
      summary: 'every command, or one command\'s options and examples',
      options: [],
      args: ['command'],
      variadic: true,
      run(ctx, args) {
        ctx.io.stdout.write(help([...args.positionals, ...args.rest]));
      },
    },
    {
      name: '__complete',
      usage: '__complete WORD...',
      summary: 'the completion candidates for the last word (used by the completion scripts)',
      hidden: true,
      options: [],
      args: ['none'],
      variadic: true,
      async run(ctx, args) {
        const candidates = await complete(args.positionals, commands(), completionSources(ctx));
        if (candidates.length > 0) ctx.io.stdout.write(`${candidates.join('\n')}\n`);
      },
    },
  ];
}
