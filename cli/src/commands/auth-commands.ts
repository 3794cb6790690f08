// login, logout, whoami and contexts (several masters, one current).
import { formatDuration, table } from '@wharf/proto/console-format';
import { ApiClient } from '../api-client.js';
import type { UserView } from '../api-types.js';
import type { CommandSpec } from '../command-spec.js';
import type { ContextEntry } from '../config-file.js';
import { CliError, UsageError } from '../errors.js';
import { expectArgs, flagOption, stringOption } from '../parse-args.js';
import { parseOutputFormat } from '../output.js';
import { askLine, askSecret, isInteractive, readAllStdin } from '../prompt.js';
import { normaliseServers, readCaFile, selectedContext } from '../target.js';
import { describeToken, tokenKind } from '../token-kind.js';
import { OUTPUT_OPTION } from './shared-options.js';

/** `host:port` of a server URL (with its path, if any): the default name of its context. */
export function defaultContextName(server: string): string {
  // several masters: named after the first
  const url = new URL(server.split(',')[0]!);
  return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

const login: CommandSpec = {
  name: 'login',
  usage: 'login [URL] [--email E] [--password-stdin | --token-stdin] [--cacert FILE]',
  summary: 'log in to a master and make it the current context',
  description: [
    'Logs in with your email and password (asked for on the terminal, or --email with --password-stdin',
    'for scripts) or stores an API token (--token-stdin), and saves the server and token as a context',
    'in ~/.config/wharf/config.json (mode 0600). The context is named after the server (host:port)',
    'unless --context NAME says otherwise; logging in again to the same server updates its context.',
    'URL defaults to WHARF_URL or the current context\'s server; http:// is assumed without a scheme.',
    'For an https master with its own cluster CA, pass the CA certificate with --cacert (kept in the',
    'context). A login token expires (12h by default); `wharf token create` makes a long-lived one.',
  ].join('\n'),
  examples: [
    'wharf login http://localhost:8080',
    "echo \"$PASSWORD\" | wharf login https://wharf.example:8080 --email ada@example.com --password-stdin --cacert ca.crt",
    'wharf login http://ci-master:8080 --context ci --token-stdin < token.txt',
  ],
  options: [
    { name: 'email', value: 'E', help: 'the account\'s email (asked for when absent on a terminal)' },
    { name: 'password-stdin', help: 'read the password from stdin (for scripts)' },
    { name: 'token-stdin', help: 'read an API token from stdin instead of logging in with a password' },
    { name: 'cacert', value: 'FILE', help: 'PEM of the CA that signs the master\'s certificate (https)', complete: 'file' },
  ],
  args: ['none'],
  async run(ctx, args) {
    const [urlArg] = expectArgs('login', args, 0, 1, 'a server URL');
    const config = ctx.config.load();
    const env = ctx.io.env;
    const selected = ctx.contextFlag ?? (env.WHARF_CONTEXT || config.current);
    const fallback = env.WHARF_URL || (selected !== undefined ? config.contexts[selected]?.server : undefined);
    const rawServer = urlArg ?? fallback;
    if (rawServer === undefined) throw new UsageError('which master? give its URL, e.g. wharf login http://master:8080', 'login');
    const server = normaliseServers(rawServer);
    const passwordStdin = flagOption(args, 'password-stdin');
    const tokenStdin = flagOption(args, 'token-stdin');
    if (passwordStdin && tokenStdin) throw new UsageError('--password-stdin and --token-stdin exclude each other', 'login');

    // the context to write: --context, else the one already on this server, else host:port
    const existing = Object.entries(config.contexts).find(([, entry]) => entry.server === server)?.[0];
    const name = ctx.contextFlag ?? existing ?? defaultContextName(server);
    const before: ContextEntry | undefined = config.contexts[name];
    const cacertFile = stringOption(args, 'cacert');
    const caCert = cacertFile
      ? readCaFile(cacertFile, '--cacert')
      : env.WHARF_CACERT
        ? readCaFile(env.WHARF_CACERT, 'WHARF_CACERT')
        : before?.server === server
          ? before.caCert
          : undefined;

    let user: UserView;
    let token: string;
    if (tokenStdin) {
      token = withoutTrailingNewline(await readAllStdin(ctx.io, 64 * 1024)).trim();
      if (!token) throw new UsageError('--token-stdin: stdin was empty', 'login');
      user = (await new ApiClient({ server, token, caCert }).get<{ user: UserView }>('/api/auth/me')).user;
    } else {
      let email = stringOption(args, 'email');
      let password: string;
      if (passwordStdin) {
        if (email === undefined) throw new UsageError('--password-stdin needs --email', 'login');
        password = withoutTrailingNewline(await readAllStdin(ctx.io, 64 * 1024));
      } else {
        if (!isInteractive(ctx.io)) {
          throw new UsageError('no terminal to ask for the password on: pass --email E --password-stdin (or --token-stdin)', 'login');
        }
        ctx.out.note(`Logging in to ${server}`);
        email ??= await askLine(ctx.io, 'Email: ');
        password = await askSecret(ctx.io, 'Password: ');
      }
      if (!email) throw new UsageError('an email is needed', 'login');
      if (!password) throw new UsageError('an empty password', 'login');
      const answer = await new ApiClient({ server, caCert }).request<{ user: UserView; token: string }>('POST', '/api/auth/login', {
        json: { email, password },
      });
      user = answer.user;
      token = answer.token;
    }
    config.contexts[name] = { server, token, user: user.email, ...(caCert ? { caCert } : {}) };
    config.current = name;
    ctx.config.save(config);
    ctx.out.line(`Logged in to ${server} as ${user.email} (${user.role}); context "${name}" is current (${ctx.config.path}).`);
  },
};

const logout: CommandSpec = {
  name: 'logout',
  usage: 'logout',
  summary: 'end the current context\'s login session and forget its token',
  description: [
    'A login token: the master ends its session (POST /api/auth/logout), so the token is refused from',
    'then on, and it is removed from the config file. An API token is only removed from the file: it',
    'keeps working until it is revoked (wharf token revoke). The context keeps its server, so',
    '`wharf login` logs in there again. When the master cannot be reached the token is still removed',
    'here, and the command says that the master still accepts it until it expires.',
  ].join('\n'),
  options: [],
  args: [],
  async run(ctx, args) {
    expectArgs('logout', args, 0, 0, '');
    const config = ctx.config.load();
    const name = selectedContext(config, ctx.io.env, ctx.contextFlag);
    const entry = name === undefined ? undefined : config.contexts[name];
    if (name === undefined || !entry?.token) throw new CliError('not_logged_in', 'not logged in (nothing to forget)');
    let note = '';
    if (tokenKind(entry.token).kind === 'login') {
      try {
        // 204 with no body: open() checks the status, the empty body is drained
        const response = await new ApiClient({ server: entry.server, token: entry.token, caCert: entry.caCert }).open('POST', '/api/auth/logout', { json: {}, idleTimeoutMs: 10_000 });
        response.resume();
        note = '; the master refuses it from now on';
      } catch (error: unknown) {
        // an expired or already revoked token is as good as logged out; anything else is said
        note = error instanceof CliError && error.status === 401
          ? '; the master no longer accepted it (expired or already revoked)'
          : `; the master could not be told (${error instanceof Error ? error.message : String(error)}), so it accepts the token until it expires`;
      }
    } else {
      note = '; an API token keeps working until it is revoked (wharf token revoke)';
    }
    delete entry.token;
    ctx.config.save(config);
    ctx.out.line(`Logged out of "${name}" (${entry.server}): its token is removed from ${ctx.config.path}${note}.`);
  },
};

const whoami: CommandSpec = {
  name: 'whoami',
  usage: 'whoami [-o json|yaml]',
  summary: 'who you are on which master',
  options: [OUTPUT_OPTION],
  args: [],
  async run(ctx, args) {
    expectArgs('whoami', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'whoami');
    const target = ctx.target();
    const { user } = await ctx.client().get<{ user: UserView }>('/api/auth/me');
    const token = describeToken(target.token, ctx.io.now(), formatDuration);
    ctx.out.data(format, { user, server: target.server, context: target.contextName ?? null, token }, () =>
      `${user.email} (${user.role}) on ${target.server}${target.contextName ? ` [context ${target.contextName}]` : ''}; ${token}`,
    );
  },
};

const contextLs: CommandSpec = {
  name: 'context ls',
  usage: 'context ls [-o json|yaml]',
  summary: 'the saved contexts (masters); * marks the current one',
  options: [OUTPUT_OPTION],
  args: [],
  run(ctx, args) {
    expectArgs('context ls', args, 0, 0, '');
    const format = parseOutputFormat(stringOption(args, 'output'), 'context ls');
    const config = ctx.config.load();
    const now = ctx.io.now();
    const rows = Object.entries(config.contexts).map(([name, entry]) => ({
      name,
      current: name === config.current,
      server: entry.server,
      user: entry.user ?? null,
      token: describeToken(entry.token, now, formatDuration),
      cacert: Boolean(entry.caCert),
    }));
    ctx.out.data(format, rows, () =>
      rows.length === 0
        ? ctx.out.style.dim('no contexts yet: wharf login URL')
        : table(
            ['CURRENT', 'NAME', 'SERVER', 'USER', 'TOKEN'],
            rows.map((r) => [r.current ? '*' : '', r.name, r.server + (r.cacert ? ' (own CA)' : ''), r.user ?? '-', r.token]),
            ctx.out.style,
          ),
    );
  },
};

const contextUse: CommandSpec = {
  name: 'context use',
  usage: 'context use NAME',
  summary: 'make a saved context the current one',
  options: [],
  args: ['context'],
  run(ctx, args) {
    const [name] = expectArgs('context use', args, 1, 1, 'a context name (wharf context ls)');
    const config = ctx.config.load();
    if (!(name! in config.contexts)) throw new CliError('not_found', `no context named "${name}" (wharf context ls)`);
    config.current = name!;
    ctx.config.save(config);
    ctx.out.line(`Context "${name}" (${config.contexts[name!]!.server}) is current.`);
  },
};

const contextRm: CommandSpec = {
  name: 'context rm',
  usage: 'context rm NAME',
  summary: 'delete a saved context (its server and token)',
  options: [],
  args: ['context'],
  run(ctx, args) {
    const [name] = expectArgs('context rm', args, 1, 1, 'a context name (wharf context ls)');
    const config = ctx.config.load();
    if (!(name! in config.contexts)) throw new CliError('not_found', `no context named "${name}" (wharf context ls)`);
    delete config.contexts[name!];
    if (config.current === name) delete config.current;
    ctx.config.save(config);
    ctx.out.line(`Context "${name}" is deleted.`);
  },
};

export const AUTH_COMMANDS: CommandSpec[] = [login, logout, whoami, contextLs, contextUse, contextRm];
