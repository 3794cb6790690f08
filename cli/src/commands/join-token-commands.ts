// Join tokens (admins): create (the secret is shown once), ls, revoke. A join token lets NEW
// workers join the cluster (docs/API.md "Joining workers"); workers that joined keep their
// certificates when it is revoked (`wharf worker rm` takes one out).
import { cell } from '@wharf/proto/console-format';
import type { JoinTokenView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, EXIT_ERROR } from '../errors.js';
import { pickJoinToken } from '../ids.js';
import { parseOutputFormat } from '../output.js';
import { expectArgs, intOption, stringOption } from '../parse-args.js';
import { joinTokensTable } from '../views.js';
import { OUTPUT_OPTION } from './shared-options.js';

/** `POST /api/join-tokens` answers this. */
export interface CreatedJoinToken {
  token: JoinTokenView;
  secret: string;
  /** the join line, with a placeholder for the file that holds the secret */
  command: string;
}

/** The note on stderr after the secret: what the token admits, until when, and the join line. */
export function createdJoinTokenNote(created: CreatedJoinToken): string[] {
  const { token } = created;
  const uses = token.usageLimit === null ? 'any number of workers' : `${token.usageLimit} worker${token.usageLimit === 1 ? '' : 's'}`;
  const expires = token.expiresAt ? `until ${token.expiresAt}` : 'with no expiry';
  return [
    `join token ${token.id}${token.description ? ` ("${cell(token.description, 100)}")` : ''} admits ${uses} ${expires}; this is the only time its secret is shown`,
    `join a worker (the secret in that file, mode 600): ${created.command}`,
  ];
}

const create: CommandSpec = {
  name: 'join-token create',
  usage: 'join-token create [--expires 24h] [--uses N] [--description TEXT] [-o json|yaml]',
  summary: 'admins: make a token that lets new workers join (shown once)',
  description: [
    'A join token (`<id>.<secret>`) lets a new worker join with `runWorker.sh --token-file FILE`; from',
    'then on the worker uses its own certificate. The secret is printed once on stdout, and nothing',
    'else is, so `wharf join-token create --uses 1 > join-token` captures it; the join line goes to',
    'stderr. The master keeps only its hash. --expires takes 30m, 24h, 7d... up to 365d (default:',
    'never); --uses how many workers it may admit (default: any number). -o json prints the API\'s',
    'whole answer (token, secret, join line).',
  ].join('\n'),
  examples: [
    "wharf join-token create --expires 24h --uses 1 --description 'gpu-box-2' > join-token && chmod 600 join-token",
    './runWorker.sh --master master:50051 --token-file join-token --ca-hash sha256:…',
  ],
  options: [
    { name: 'expires', value: 'DURATION', help: 'lifetime: 30m, 24h, 7d, up to 365d (never)' },
    { name: 'uses', value: 'N', help: 'how many workers it may admit, 1-1000000 (any number)' },
    { name: 'description', value: 'TEXT', help: 'what it is for (up to 200 characters)' },
    OUTPUT_OPTION,
  ],
  args: [],
  async run(ctx, args) {
    expectArgs('join-token create', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'join-token create');
    const expiresIn = stringOption(args, 'expires');
    const usageLimit = intOption('join-token create', args, 'uses', 1, 1_000_000);
    const description = stringOption(args, 'description');
    const created = await ctx.client().request<CreatedJoinToken>('POST', '/api/join-tokens', {
      json: {
        ...(description === undefined ? {} : { description }),
        ...(expiresIn === undefined || expiresIn === 'never' ? {} : { expiresIn }),
        ...(usageLimit === undefined ? {} : { usageLimit }),
      },
    });
    if (format !== 'table') {
      ctx.out.data(format, created, () => '');
      return;
    }
    ctx.out.line(created.secret);
    for (const line of createdJoinTokenNote(created)) ctx.out.note(ctx.out.errStyle.dim(line));
  },
};

const ls: CommandSpec = {
  name: 'join-token ls',
  usage: 'join-token ls [-o json|yaml]',
  summary: 'admins: the join tokens, their uses and state (never their secrets)',
  options: [OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('join-token ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'join-token ls');
    const { tokens } = await ctx.client().get<{ tokens: JoinTokenView[] }>('/api/join-tokens');
    ctx.out.data(format, tokens, () =>
      tokens.length === 0 ? ctx.out.style.dim('no join tokens (wharf join-token create)') : joinTokensTable(tokens, ctx.out.style, ctx.io.now()),
    );
  },
};

const revoke: CommandSpec = {
  name: 'join-token revoke',
  usage: 'join-token revoke ID...',
  summary: 'admins: revoke join tokens: no new worker can join with them',
  description: [
    'ID is a join token\'s id (wharf_k3x9q2) or a unique prefix of it (the wharf_ may be left out).',
    'Workers that joined with a revoked token keep their certificates: `wharf worker rm` removes one.',
  ].join('\n'),
  options: [],
  args: ['joinToken'],
  variadic: true,
  async run(ctx, args) {
    const ids = expectArgs('join-token revoke', args, 1, 100, 'a join token id');
    const client = ctx.client();
    const { tokens } = await client.get<{ tokens: JoinTokenView[] }>('/api/join-tokens');
    let failed = 0;
    for (const idOrPrefix of ids) {
      try {
        const { id } = pickJoinToken(tokens, idOrPrefix);
        const { token } = await client.request<{ token: JoinTokenView }>('DELETE', `/api/join-tokens/${encodeURIComponent(id)}`);
        ctx.out.line(`revoked join token ${token.id}: no new worker can join with it (workers that joined keep their certificates)`);
      } catch (error: unknown) {
        if (!(error instanceof CliError)) throw error;
        failed += 1;
        ctx.out.note(`wharf join-token revoke: ${idOrPrefix}: ${error.message} [${error.code}]`);
      }
    }
    return failed > 0 ? EXIT_ERROR : undefined;
  },
};

export const JOIN_TOKEN_COMMANDS: CommandSpec[] = [create, ls, revoke];
