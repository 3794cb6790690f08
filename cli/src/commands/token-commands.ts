// API tokens: create (the secret is shown once), ls, revoke.
import { cell } from '@wharf/proto/console-format';
import type { ApiTokenView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, EXIT_ERROR } from '../errors.js';
import { pickToken } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, flagOption, stringOption } from '../parse-args.js';
import { tokensTable } from '../views.js';
import { OUTPUT_OPTION } from './shared-options.js';

const create: CommandSpec = {
  name: 'token create',
  usage: 'token create NAME [--expires 30d|never] [-o json|yaml]',
  summary: 'make an API token for scripts and CI (shown once)',
  description: [
    'The token acts as you wherever a login works: give it to a script as WHARF_TOKEN (with',
    'WHARF_URL), or store it with `wharf login URL --token-stdin`. The secret is printed once on',
    'stdout (and nothing else is, so `wharf token create ci > ci.token` captures it); the master',
    'keeps only its hash. --expires takes 12h, 30d, 365d... or never (default 30d).',
  ].join('\n'),
  examples: ['wharf token create ci --expires 90d > ci.token', 'WHARF_URL=http://master:8080 WHARF_TOKEN=$(cat ci.token) wharf ls'],
  options: [{ name: 'expires', value: 'DURATION', help: 'lifetime: 12h, 30d, 365d, or never (30d)' }, OUTPUT_OPTION],
  args: ['none'],
  async run(ctx, args) {
    const [name] = expectArgs('token create', args, 1, 1, 'a name for the token (e.g. ci)');
    const format = parseOutputFormat(stringOption(args, 'output'), 'token create');
    const expiresIn = stringOption(args, 'expires');
    const created = await ctx.client().request<{ token: ApiTokenView; secret: string }>('POST', '/api/tokens', {
      json: { name, ...(expiresIn === undefined ? {} : { expiresIn }) },
    });
    if (format !== 'table') {
      ctx.out.data(format, created, () => '');
      return;
    }
    ctx.out.line(created.secret);
    const expires = created.token.expiresAt ? `expires ${created.token.expiresAt}` : 'never expires';
    ctx.out.note(ctx.out.errStyle.dim(`API token "${cell(created.token.name, 100)}" (id ${created.token.id.slice(0, 8)}) ${expires}; this is the only time its secret is shown`));
  },
};

const ls: CommandSpec = {
  name: 'token ls',
  usage: 'token ls [--all] [-o json|yaml]',
  summary: 'your API tokens (never their secrets)',
  options: [{ name: 'all', short: 'a', help: 'every user\'s tokens (admins only)' }, OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('token ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'token ls');
    const all = flagOption(args, 'all');
    const { tokens } = await ctx.client().get<{ tokens: ApiTokenView[] }>('/api/tokens', all ? { all: true } : undefined);
    ctx.out.data(format, tokens, () => (tokens.length === 0 ? ctx.out.style.dim('no API tokens (wharf token create NAME)') : tokensTable(tokens, ctx.out.style, ctx.io.now(), all)));
  },
};

const revoke: CommandSpec = {
  name: 'token revoke',
  usage: 'token revoke TOKEN...',
  summary: 'revoke API tokens by name or id',
  description: 'TOKEN is one of your tokens\' names, or a unique prefix of its id (admins: any token\'s id).',
  options: [],
  args: ['token'],
  variadic: true,
  async run(ctx, args) {
    const names = expectArgs('token revoke', args, 1, 100, 'a token name or id');
    const client = ctx.client();
    const { tokens } = await client.get<{ tokens: ApiTokenView[] }>('/api/tokens');
    let failed = 0;
    for (const nameOrId of names) {
      try {
        // an id that is not among yours (an admin revoking another user's) goes to the API as it is
        const id = /^[0-9a-f-]{36}$/.test(nameOrId) && !tokens.some((t) => t.name === nameOrId) ? nameOrId : pickToken(tokens, nameOrId).id;
        const { token } = await client.request<{ token: ApiTokenView }>('DELETE', `/api/tokens/${id}`);
        ctx.out.line(`revoked API token "${cell(token.name, 100)}" (${token.id.slice(0, 8)})`);
      } catch (error: unknown) {
        if (!(error instanceof CliError)) throw error;
        failed += 1;
        ctx.out.note(`wharf token revoke: ${nameOrId}: ${error.message} [${error.code}]`);
      }
    }
    return failed > 0 ? EXIT_ERROR : undefined;
  },
};

export const TOKEN_COMMANDS: CommandSpec[] = [create, ls, revoke];
