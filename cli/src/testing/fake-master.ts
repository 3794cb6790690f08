// For unit tests of commands: a fake master (a recording ApiClient that answers from a table of
// routes, no network) and a CommandContext around it with captured stdout and stderr, and a stdin
// that may pretend to be a terminal. Not part of the build (cli/tsconfig.json excludes it).
import { PassThrough } from 'node:stream';
import { ApiClient, type RequestOptionsIn } from '../api-client.js';
import type { CommandContext } from '../command-context.js';
import type { CommandSpec } from '../command-spec.js';
import { ConfigFile } from '../config-file.js';
import { CliError } from '../errors.js';
import type { CliInput, CliIo } from '../io.js';
import { Output } from '../output.js';
import { parseArgs } from '../parse-args.js';

export interface FakeRequest {
  method: string;
  path: string;
  json?: unknown;
}

/** `METHOD /path` → the answer (a function of the request body), or a CliError to throw. */
export type FakeRoutes = Record<string, unknown>;

export class FakeMasterClient extends ApiClient {
  readonly requests: FakeRequest[] = [];

  constructor(private readonly routes: FakeRoutes) {
    super({ server: 'http://fake-master:8080', token: 'fake' });
  }

  override request<T>(method: string, path: string, options: RequestOptionsIn = {}): Promise<T> {
    this.requests.push({ method, path, ...(options.json === undefined ? {} : { json: options.json }) });
    const answer = this.routes[`${method} ${path}`];
    if (answer === undefined) return Promise.reject(new CliError('not_found', `fake master: no route ${method} ${path}`, 404));
    if (answer instanceof CliError) return Promise.reject(answer);
    return Promise.resolve((typeof answer === 'function' ? (answer as (json: unknown) => unknown)(options.json) : answer) as T);
  }
}

export interface FakeRun {
  code: number | void;
  stdout: string;
  stderr: string;
  client: FakeMasterClient;
}

/**
 * Runs `command` with `words` against a fake master. `keys`: stdin is a terminal and these keys
 * are typed, one chunk each as the prompt reads them; absent: stdin is not a terminal.
 */
export async function runAgainstFakeMaster(command: CommandSpec, words: string[], routes: FakeRoutes, options: { keys?: string[]; now?: number } = {}): Promise<FakeRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stdin: CliInput = new PassThrough();
  if (options.keys) {
    stdin.isTTY = true;
    stdin.setRawMode = () => stdin;
    const keys = [...options.keys];
    // a key is typed once the prompt listens for it
    stdin.on('resume', () => {
      const key = keys.shift();
      if (key !== undefined) setImmediate(() => stdin.emit('data', Buffer.from(key)));
    });
  }
  const io: CliIo = {
    stdin,
    stdout,
    stderr,
    env: {},
    cwd: '/',
    homedir: '/nonexistent',
    now: () => options.now ?? Date.now(),
    onSignal: () => () => undefined,
  };
  const client = new FakeMasterClient(routes);
  const ctx: CommandContext = {
    io,
    out: new Output(io),
    config: new ConfigFile('/nonexistent/wharf-config.json'),
    contextFlag: undefined,
    target: () => ({ server: client.server, token: 'fake' }),
    client: () => client,
  };
  const code = await command.run(ctx, parseArgs(command.name, command.options, words));
  return { code, stdout: out, stderr: err, client };
}
