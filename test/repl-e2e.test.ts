// The master's REPL driven the two ways an operator can: on a real terminal (a pseudo-terminal
// made by util-linux `script`, so the master sees a TTY without native modules) and with piped
// stdin and --repl. The master runs as its own process (the built dist, as runMaster.sh starts
// it); a real worker runs tasks in the real Docker engine; every check reads what the operator
// would read on the screen, or asks the REST API as an operator would.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestWorker, tempDir, TEST_IMAGE, waitFor } from './support/cluster.js';
import { TRAIN_PIPELINE_DATA_BYTES, trainPipelineYaml } from './support/dags.js';

const CLI = join(REPO_ROOT, 'master/dist/cli.js');
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]/g;

/** What a person sees: terminal control sequences and carriage returns removed. */
const screen = (raw: string) => raw.replace(ANSI, '').replace(/\r/g, '');

const shellQuote = (args: readonly string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

class ReplProcess {
  raw = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly piped: boolean,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.raw += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (this.raw += d.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static args(dataDir: string): string[] {
    return [CLI, '--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0', '--admin-password', 'admin-password', '--log-level', 'warn', '--cancel-grace', '1s'];
  }

  /** The master on a pseudo-terminal: stdin and stdout are a TTY. */
  static onTerminal(env: Record<string, string> = {}, dataDir = tempDir('repl-pty')): ReplProcess {
    const command = shellQuote([process.execPath, ...ReplProcess.args(dataDir)]);
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm-256color', COLUMNS: '200', LINES: '50', ...env },
    });
    return new ReplProcess(child, dataDir, false);
  }

  /** The master with --repl reading piped stdin. */
  static piped(): ReplProcess {
    const dataDir = tempDir('repl-piped');
    const child = spawn(process.execPath, [...ReplProcess.args(dataDir), '--repl'], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new ReplProcess(child, dataDir, true);
  }

  get text(): string {
    return screen(this.raw);
  }

  /** A position in the output; `expect` after it sees only what came later. */
  mark(): number {
    return this.text.length;
  }

  send(keys: string): void {
    this.child.stdin!.write(keys);
  }

  async expect(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const found = waitFor(`${pattern} in the REPL output`, () => this.text.slice(from).match(pattern) ?? undefined, timeoutMs, 50);
    // a master that exits cannot print what we wait for: fail at once, showing why
    const exited = this.exited.then(async (code) => {
      await new Promise((r) => setTimeout(r, 200));
      const match = this.text.slice(from).match(pattern);
      if (match) return match;
      throw new Error(`the master exited (${code}) before printing ${pattern}`);
    });
    return Promise.race([found, exited]).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- output since mark ---\n${this.text.slice(from)}`);
    });
  }

  /**
   * Types a command and waits until it is done; answers what the command printed. On a
   * terminal "done" is the next prompt; on piped stdin it is the echo of an empty line sent
   * after the command (commands run one after another).
   */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const from = this.mark();
    this.send(this.piped ? `${command}\n\n` : `${command}\r`);
    const done = this.piped ? /\nwharf> \n$/ : /\nwharf> $/;
    await this.expect(done, from, timeoutMs);
    const printed = this.text.slice(from);
    // drop the echoed command line and what marks the end
    return printed.slice(printed.indexOf('\n') + 1).replace(this.piped ? /wharf> \n$/ : /wharf> $/, '');
  }

  banner(): { httpUrl: string; grpcAddress: string; joinToken: string; caHash: string } {
    const text = this.text;
    return {
      httpUrl: /API and dashboard:\s+(\S+)/.exec(text)![1]!,
      grpcAddress: /Worker port \(gRPC\):\s+(\S+)/.exec(text)![1]!,
      // a first start: the token was generated, so the banner shows it
      joinToken: /Join token:\s+(\S+)/.exec(text)![1]!,
      caHash: /Join a worker:.* --ca-hash (sha256:[0-9a-f]{64})/.exec(text)![1]!,
    };
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const workers: WorkerHandle[] = [];
const sessions: ReplProcess[] = [];

afterAll(async () => {
  for (const worker of workers) {
    await worker.stop();
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  }
  for (const session of sessions) session.kill();
  removeTempDirs();
});

async function taskBody(api: ApiClient, id: string): Promise<TaskBody> {
  return (await api.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
}

interface DagBody {
  id: string;
  status: string;
  tasks: { name: string; status: string; taskId: string | null; inputs: { name: string; size?: number; cache: 'hit' | 'miss' | null }[] }[];
}
interface RunMetricsBody {
  dagId: string;
  status: string;
  cacheHit: string;
  durationMs: number | null;
  bytesFromCache: number;
  bytesDownloaded: number;
}

/** The issue's example DAG, with the test image. */
const TRAIN_PIPELINE = trainPipelineYaml({ name: 'repl-train', image: TEST_IMAGE });
const DATA_TXT_BYTES = TRAIN_PIPELINE_DATA_BYTES;

describe('the REPL on a terminal', () => {
  let repl: ReplProcess;
  let api: ApiClient;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    repl = ReplProcess.onTerminal();
    sessions.push(repl);
    await repl.expect(/Type help for the console's commands[\s\S]*wharf> $/);
    const banner = repl.banner();
    workers.push(await startTestWorker(banner, { name: 'repl-worker' }));
    api = await ApiClient.admin(banner.httpUrl);
  });

  it('lists the worker that joined, in an aligned table', async () => {
    const out = await repl.run('workers');
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+CONNECTED/);
    expect(lines[1]).toMatch(/repl-worker\s+ready\s+yes\s+docker/);
    // the columns line up: STATUS starts at the same place in the header and the row
    expect(lines[1]!.indexOf('ready')).toBe(lines[0]!.indexOf('STATUS'));
  });

  it('submits a task, completes its id prefix with Tab and follows its log until it ends by itself', async () => {
    const out = await repl.run(`submit ${TEST_IMAGE} sh -c 'for i in 1 2 3; do echo line-$i; sleep 0.4; done' --cpu 0.1 --memory 32Mi --name follow-me`);
    const id = /submitted ([0-9a-f-]{36}) \(follow-me\): queued/.exec(out)?.[1];
    expect(id, out).toBeDefined();

    // Tab turns a prefix into the whole id on the command line
    const from = repl.mark();
    repl.send(`logs ${id!.slice(0, 5)}\t`);
    await repl.expect(new RegExp(`logs ${id}`), from, 10_000);
    repl.send(' -f\r');
    const followed = await repl.expect(/line-1\n[\s\S]*line-3\n--- task [0-9a-f]{8} succeeded \(exit 0\) ---\nwharf> $/, from);
    expect(followed[0]).toContain('line-2');
    expect((await taskBody(api, id!)).status).toBe('succeeded');
  });

  it('stops following on Ctrl-C without leaving the REPL, then cancels the running task', async () => {
    const out = await repl.run(`submit ${TEST_IMAGE} sh -c 'echo started; sleep 120' --cpu 0.1 --memory 32Mi --name sleeper`);
    const id = /submitted ([0-9a-f-]{36})/.exec(out)![1]!;
    const from = repl.mark();
    repl.send(`logs ${id.slice(0, 8)} -f\r`);
    await repl.expect(/started\n/, from);
    repl.send('\x03');
    await repl.expect(/--- stopped following; the task keeps running ---\nwharf> $/, from);
    expect((await taskBody(api, id)).status).toBe('running');

    const cancelled = await repl.run(`cancel ${id.slice(0, 8)}`);
    expect(cancelled).toMatch(new RegExp(`cancelled ${id} \\(sleeper\\), was running; worker [0-9a-f]{8} is told to stop it`));
    const task = await waitFor('the attempt to end', async () => {
      const t = await taskBody(api, id);
      return t.attempts[0]?.status === 'cancelled' ? t : undefined;
    });
    expect(task.status).toBe('cancelled');
    expect(await repl.run(`cancel ${id.slice(0, 8)}`)).toMatch(/^error: task [0-9a-f-]{36} is already cancelled\n$/);
  });

  it('completes dag subcommands and the path of a DAG file with Tab', async () => {
    const dir = tempDir('repl-tab');
    writeFileSync(join(dir, 'pipeline-one.yaml'), 'dagName: x\n');
    const from = repl.mark();
    repl.send('dag su\t');
    await repl.expect(/dag submit $/, from, 10_000);
    repl.send(`${dir}/pipe\t`);
    await repl.expect(new RegExp(`dag submit ${dir}/pipeline-one\\.yaml$`), from, 10_000);
    repl.send('\x15'); // Ctrl-U: the line is not run
    await repl.run('');
  });

  it('completes join-token actions and the id of a token to revoke with Tab', async () => {
    const { id } = /(?<id>wharf_[a-z0-9]{6})\./.exec(await repl.run('join-token create --uses 1 for tab'))!.groups!;
    const from = repl.mark();
    repl.send('join-token re\t');
    await repl.expect(/join-token revoke $/, from, 10_000);
    repl.send(`${id!.slice(0, 9)}\t`);
    await repl.expect(new RegExp(`join-token revoke ${id}`), from, 10_000);
    repl.send('\x15'); // Ctrl-U: the line is not run
    await repl.run('');
  });

  it('creates a queue, completes queues actions and queue names with Tab, and shows usage against its limits', async () => {
    expect(await repl.run('queues create tabq maxConcurrency=0 defaultPriority=30 strategy=binpack selector.pool=gpu')).toMatch(/queue tabq created/);
    const from = repl.mark();
    repl.send('queues sh\t');
    await repl.expect(/queues show $/, from, 10_000);
    repl.send('tab\t');
    await repl.expect(/queues show tabq/, from, 10_000);
    repl.send('\x15'); // Ctrl-U: the line is not run
    await repl.run('');
    const submitted = /submitted ([0-9a-f-]{36})/.exec(await repl.run(`submit ${TEST_IMAGE} true --queue tabq --name capped`))![1]!;
    const task = await waitFor('the task to wait on its queue cap', async () => {
      const out = await repl.run(`task ${submitted.slice(0, 8)}`);
      return out.includes('queue tabq: 0/0 running tasks') ? out : undefined;
    });
    expect(task).toMatch(/waiting:\s+queue tabq: 0\/0 running tasks\n/);
    expect(task).toMatch(/queue:\s+tabq\n/);
    expect(task).toMatch(/priority:\s+30\n/);
    const shown = await repl.run('queues show tabq');
    expect(shown).toMatch(/tabq\s+1\s+0\/0\s+/);
    expect(shown).toMatch(/admin@wharf\.local\s+1\s+0\s+/);
    expect(await repl.run('queues rm tabq')).toMatch(/^error: queue tabq holds 1 queued and 0 placed tasks/);
    await repl.run(`cancel ${submitted.slice(0, 8)}`);
    expect(await repl.run('queues set tabq maxConcurrency=null maxCpu=2')).toMatch(/tabq\s+0\s+0\s+0\/2\s+/);
    expect(await repl.run('queues limit admin@wharf.local queue=tabq weight=3 maxRunning=4')).toMatch(/limits of admin@wharf\.local in queue tabq: maxRunning=4 weight=3/);
    expect(await repl.run('queues rm tabq')).toMatch(/queue tabq deleted/);
  });

  it('shows the live status view until a key is pressed, then gives the prompt back with an empty line', async () => {
    const from = repl.mark();
    repl.send('status\r');
    await repl.expect(/workers: 1 ready, 0 draining, 0 lost\ntasks: +\d+ queued[\s\S]*repl-worker\s+ready[\s\S]*refreshing every 2s · press any key to return\n$/, from);
    const redraws = () => repl.text.slice(from).split('refreshing every 2s').length - 1;
    await waitFor('a second drawing 2s later', () => redraws() >= 2, 10_000);
    repl.send('q');
    await repl.expect(/wharf> $/, from, 10_000);
    // the key only ended the view: Enter now runs an empty line, not "q"
    expect(await repl.run('')).not.toContain('unknown command');
    expect(repl.raw).toContain('\x1b[?1049l'); // left the alternate screen
  });

  it('keeps the master running on Ctrl-C at the prompt, colours statuses, and keeps history across restarts', async () => {
    const from = repl.mark();
    repl.send('\x03');
    await repl.expect(/\(type exit to stop the master; Ctrl-D leaves the REPL and keeps the master running\)\nwharf> $/, from);
    expect((await fetch(`${repl.banner().httpUrl}/health`)).status).toBe(200);

    const rawFrom = repl.raw.length;
    await repl.run('tasks succeeded');
    expect(repl.raw.slice(rawFrom)).toContain('\x1b[32msucceeded\x1b[39m'); // green on a terminal

    repl.send('exit\r');
    expect(await repl.exited).toBe(0); // `exit` stopped the master in order
    expect(repl.text).toMatch(/stopping the master…\n/);
    const history = readFileSync(join(repl.dataDir, 'repl_history'), 'utf8').trim().split('\n');
    expect(history).toContain('tasks succeeded');
    expect(history.some((line) => line.startsWith(`submit ${TEST_IMAGE} sh -c`))).toBe(true);
    expect(history.at(-1)).toBe('exit');

    // a new master on the same data dir: Up brings back the commands of the last session
    const again = ReplProcess.onTerminal({}, repl.dataDir);
    sessions.push(again);
    await again.expect(/Type help for the console's commands[\s\S]*wharf> $/);
    const recalled = again.mark();
    again.send('\x1b[A');
    await again.expect(/wharf> exit$/, recalled, 10_000);
    again.send('\x1b[A');
    await again.expect(/wharf> tasks succeeded$/, recalled, 10_000);
    again.send('\x15exit\r'); // Ctrl-U clears the recalled line
    expect(await again.exited).toBe(0);
  });
});

describe('the REPL on piped stdin (--repl)', () => {
  let repl: ReplProcess;
  let api: ApiClient;
  let worker: WorkerHandle;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -b)`);
    repl = ReplProcess.piped();
    sessions.push(repl);
    await repl.expect(/Type help for the console's commands/);
    api = await ApiClient.admin(repl.banner().httpUrl);
  });

  it('prints without colour or cursor control, and answers wrong arguments with one-line errors', async () => {
    const errors: [string, RegExp][] = [
      ['submit', /^error: submit: needs an image \(or --runtime exec and a command\) \(usage: submit <image> \[command\.\.\.\]/],
      [`submit ${TEST_IMAGE} --cpu`, /^error: submit: --cpu needs a value$/],
      [`submit ${TEST_IMAGE} --retries many`, /^error: submit: --retries must be a whole number \(got "many"\)$/],
      [`submit ${TEST_IMAGE} --bogus 1`, /^error: submit: unknown option --bogus \(options: --cpu/],
      [`submit ${TEST_IMAGE} --env NOEQUALS`, /^error: submit: --env takes KEY=VALUE \(got "NOEQUALS"\)$/],
      ['tasks sleeping', /^error: tasks: unknown status "sleeping"; one of queued, assigned, running, succeeded, failed, cancelled/],
      ['task 12345678-zz', /^error: "12345678-zz" is not a task id/],
      ['task abcdef', /^error: no task id starts with "abcdef"$/],
      ['worker ffff', /^error: no worker id starts with "ffff"/],
      ['logs', /^error: logs: needs <id> \(usage: logs <id> \[-f\]\)$/],
      ['logs abc --tail', /^error: logs: unknown option --tail/],
      ["task 'unclosed", /^error: unclosed single quote$/],
      ['frobnicate', /^error: unknown command "frobnicate"; type help for the list$/],
      ['workers now', /^error: workers: unexpected "now" \(usage: workers\)$/],
    ];
    for (const [command, expected] of errors) {
      const out = await repl.run(command);
      expect(out.trimEnd().split('\n'), command).toHaveLength(1);
      expect(out.trimEnd(), command).toMatch(expected);
    }
    // a task the validation refuses reads the same as REST's 400
    const rest = await api.request<{ error: { message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, resources: { memory: '1Mi' } });
    expect(rest.status).toBe(400);
    expect(await repl.run(`submit ${TEST_IMAGE} --memory 1Mi`)).toBe(`error: ${rest.body.error.message}\n`);
    expect(repl.raw).not.toContain('\x1b');
  });

  it('shows the queue in dispatch order with why each task waits, and names an ambiguous prefix', async () => {
    const low = /submitted ([0-9a-f-]{36})/.exec(await repl.run(`submit ${TEST_IMAGE} true --priority 10 --name low`))![1]!;
    const high = /submitted ([0-9a-f-]{36})/.exec(await repl.run(`submit ${TEST_IMAGE} true --priority 90 --name high`))![1]!;
    const queue = await waitFor('a scheduling pass', async () => {
      const out = await repl.run('queue');
      return out.includes('no ready worker') ? out : undefined;
    });
    const rows = queue.trim().split('\n');
    expect(rows[0]).toMatch(/^POS\s+ID\s+NAME\s+PRIO\s+CPU\s+MEMORY\s+GPU\s+WAITING\s+WHY$/);
    expect(rows[1]).toMatch(new RegExp(`^1\\s+${high.slice(0, 8)}\\s+high\\s+90\\s+.*no ready worker$`));
    expect(rows[2]).toMatch(new RegExp(`^2\\s+${low.slice(0, 8)}\\s+low\\s+10\\s+.*no ready worker$`));
    expect(rows[3]).toBe('2 queued');

    // a worker joins: both run; a task asking for more cpu than any worker has stays, saying why
    worker = await startTestWorker(repl.banner(), { name: 'piped-worker', capacityCaps: { cpu: 2 } });
    workers.push(worker);
    await waitFor('both tasks to finish', async () => (await taskBody(api, low)).status === 'succeeded' && (await taskBody(api, high)).status === 'succeeded');
    await repl.run(`submit ${TEST_IMAGE} true --cpu 64 --name huge`);
    const waiting = await waitFor('the reason', async () => {
      const out = await repl.run('queue');
      return out.includes('huge') && out.includes('no ready worker has cpu >= 64') ? out : undefined;
    });
    expect(waiting.trim().split('\n')).toHaveLength(3);

    // with 17 tasks, two ids share their first character (16 hex digits): that prefix is ambiguous
    for (let i = 0; i < 14; i += 1) await repl.run(`submit ${TEST_IMAGE} true --label pool=nowhere --name stuck-${i}`);
    const listed = await api.request<{ tasks: { id: string }[] }>('GET', '/api/tasks?limit=500');
    const byFirst = new Map<string, string[]>();
    for (const { id } of listed.body.tasks) byFirst.set(id[0]!, [...(byFirst.get(id[0]!) ?? []), id]);
    const [first, shared] = [...byFirst.entries()].find(([, ids]) => ids.length > 1)!;
    const out = await repl.run(`task ${first}`);
    expect(out).toMatch(new RegExp(`^error: "${first}" names more than one task: .*; type more of the id\\n$`));
    for (const id of shared.slice(0, 6)) expect(out).toContain(id);
  });

  it('drains and activates a worker named by an id prefix', async () => {
    const prefix = worker.workerId.slice(0, 6);
    expect(await repl.run(`drain ${prefix}`)).toMatch(/^worker [0-9a-f]{8} \(piped-worker\) is draining: no new tasks are placed on it/);
    const drained = await api.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`);
    expect(drained.body.worker.status).toBe('draining');
    expect(await repl.run('workers')).toMatch(/piped-worker\s+draining\s+yes/);
    expect(await repl.run(`activate ${prefix}`)).toMatch(/is ready: it takes new tasks again/);
    expect((await api.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`)).body.worker.status).toBe('ready');
  });

  it('makes, lists and revokes join tokens, and removes a worker that joined with one', async () => {
    const created = await repl.run('join-token create --expires 2h --uses 2 rack five');
    const secret = /secret:\s+(\S+)/.exec(created)![1]!;
    const id = secret.split('.')[0]!;
    expect(secret).toMatch(/^wharf_[a-z0-9]{6}\.[a-z0-9]{32}$/);
    expect(created).toMatch(/join a worker:\s+\.\/runWorker\.sh --master \S+ --token-file <file holding the secret> --ca-hash sha256:[0-9a-f]{64}/);
    expect(created).toMatch(new RegExp(`with no clone:\\s+curl -fsSL http://\\S+/join\\.sh \\| sh -s -- --token ${secret.replace('.', '\\.')} --ca-hash sha256:[0-9a-f]{64}`));
    expect(created).toContain('the secret is shown this once');
    expect(await repl.run('join-tokens')).toMatch(new RegExp(`${id}\\s+active\\s+0/2\\s+\\S+\\s+admin@wharf.local\\s+rack five`));

    const joined = await startTestWorker({ ...repl.banner(), joinToken: secret }, { name: 'token-worker', runtimes: ['exec'] });
    workers.push(joined);
    const listed = await repl.run('join-tokens');
    expect(listed).toMatch(new RegExp(`${id}\\s+active\\s+1/2`));
    expect(listed).not.toContain(secret.split('.')[1]);
    expect(listed).toMatch(/\(start token\)/);
    expect(await repl.run(`join-token revoke ${id}`)).toBe(`join token ${id} is revoked: no new worker can join with it\n`);
    expect(await repl.run('join-tokens')).toMatch(new RegExp(`${id}\\s+revoked\\s+1/2`));
    for (const [command, expected] of [
      ['join-token', /^error: join-token: create or revoke\?/],
      ['join-token create --uses many', /^error: join-token: --uses takes a whole number 1-1000000 \(got "many"\)/],
      ['join-token create --expires soon', /^error: join-token: --expires takes a duration/],
      ['join-token revoke wharf_nosuch', /^error: join token wharf_nosuch not found$/],
    ] as const) {
      expect((await repl.run(command)).trimEnd(), command).toMatch(expected);
    }

    // stopped first: a removed worker that keeps asking is refused and logged at warn, and those
    // lines would land between the REPL's (a connected worker's removal: test/security)
    await joined.stop();
    expect(await repl.run(`remove-worker ${joined.workerId.slice(0, 8)}`)).toMatch(/^worker [0-9a-f]{8} \(token-worker\) is removed: its certificate is revoked/);
    const left = await api.request<{ workers: { id: string }[] }>('GET', '/api/workers');
    expect(left.body.workers.map((w) => w.id)).not.toContain(joined.workerId);
    expect(left.body.workers.map((w) => w.id)).toContain(worker.workerId);
  });

  it('invites, disables, changes a role and deletes accounts, and every change is in the audit trail as the admin from the console', async () => {
    const invited = await repl.run('invite repl-bob@example.com --role admin --expires 2d');
    const code = /code:\s+(wharf_inv_\S+)/.exec(invited)![1]!;
    expect(invited).toMatch(/link:\s+http\S+\/register\?invite=wharf_inv_/);
    expect(invited).toContain('the code is shown this once');
    expect(await repl.run('invites')).toMatch(/repl-bob@example\.com\s+admin\s+open/);
    const bob = await new ApiClient(api.baseUrl).request<{ token: string; user: { id: string; role: string } }>('POST', '/api/auth/register', {
      email: 'repl-bob@example.com',
      password: 'password123',
      invite: code,
    });
    expect(bob.status, bob.text).toBe(201);
    expect(bob.body.user.role).toBe('admin');
    const bobClient = new ApiClient(api.baseUrl, bob.body.token);

    expect(await repl.run('users')).toMatch(/repl-bob@example\.com\s+repl-bob\s+admin\s+enabled/);
    expect(await repl.run('user role repl-bob@example.com user')).toMatch(/is now user; their login tokens stopped working/);
    expect((await bobClient.request('GET', '/api/tasks')).status).toBe(401);
    expect(await repl.run(`user disable ${bob.body.user.id.slice(0, 8)}`)).toMatch(/is disabled: no login, and every token of it stopped working/);
    expect(await repl.run('users')).toMatch(/repl-bob@example\.com\s+repl-bob\s+user\s+disabled/);
    expect(await repl.run('user enable repl-bob@example.com')).toMatch(/is enabled: they can log in again/);
    expect((await repl.run('user delete repl-bob@example.com')).trimEnd()).toMatch(/^error: user: deleting repl-bob@example\.com cancels their unfinished tasks and DAG runs and revokes their API tokens; repeat with --yes/);
    expect(await repl.run('user delete repl-bob@example.com --yes')).toMatch(/is deleted: 0 unfinished tasks and 0 DAG runs cancelled, 0 API tokens revoked; their records are kept/);
    expect((await repl.run('user disable nobody@example.com')).trimEnd()).toBe('error: user nobody@example.com not found');
    expect((await repl.run('user delete admin@wharf.local --yes')).trimEnd()).toMatch(/^error: admin@wharf\.local is the only enabled admin/);

    const audit = await repl.run('audit --since 1h --limit 20');
    for (const action of ['invite.create', 'auth.register', 'user.role.user', 'user.disable', 'user.enable', 'user.delete']) expect(audit, action).toContain(action);
    const entries = await api.request<{ entries: { action: string; address: string; userEmail: string; object: string; outcome: string }[] }>('GET', '/api/audit?since=1h');
    const fromConsole = entries.body.entries.filter((e) => e.address === 'console');
    expect(fromConsole.find((e) => e.action === 'user.delete' && e.outcome === 'ok')).toMatchObject({ userEmail: 'admin@wharf.local', object: `user:${bob.body.user.id}` });
    expect(fromConsole.find((e) => e.action === 'user.delete' && e.outcome === 'conflict')).toBeDefined();
    expect(fromConsole.find((e) => e.action === 'invite.create')?.object).toMatch(/^invite:/);
    expect(fromConsole.some((e) => e.action === 'audit' || e.action.startsWith('users'))).toBe(false);
  });

  it("lists, shows and downloads a finished task's outputs, byte for byte as REST serves them", async () => {
    const out = await repl.run(
      `submit ${TEST_IMAGE} sh -c 'sleep 1; echo out-line; seq 1 500 > /output/numbers.txt; mkdir -p /output/sub; echo hello > /output/sub/hello.txt' --memory 32Mi --cpu 0.1 --name outputs`,
    );
    const id = /submitted ([0-9a-f-]{36})/.exec(out)![1]!;
    const short = id.slice(0, 8);
    // following on piped stdin ends by itself when the task ends
    expect(await repl.run(`logs ${short} -f`)).toBe(`out-line\n--- task ${short} succeeded (exit 0) ---\n`);
    expect((await taskBody(api, id)).status).toBe('succeeded');

    const details = await repl.run(`task ${short}`);
    expect(details).toMatch(/status:\s+succeeded/);
    expect(details).toMatch(/exit code:\s+0/);
    expect(details).toMatch(/Attempts\n#\s+ID\s+WORKER\s+STATUS[^\n]*\n1\s+[0-9a-f]{8}\s+[0-9a-f]{8}\s+succeeded\s+0/);
    expect(await repl.run(`logs ${short}`)).toBe('out-line\n');

    const rest = await api.request<{ files: { path: string; sha256: string }[] }>('GET', `/api/files/${id}`);
    const listing = await repl.run(`files ${short}`);
    for (const file of rest.body.files) expect(listing).toMatch(new RegExp(`${file.path}\\s+\\S+\\s+${file.sha256}`));

    const dir = tempDir('repl-download');
    const saved = await repl.run(`download ${short} ${dir}`);
    expect(saved).toMatch(new RegExp(`saved 2 files \\(\\S+\\) to ${dir}\\n$`));
    for (const path of ['numbers.txt', 'sub/hello.txt']) {
      const served = await api.bytes(`/api/files/${id}/download/${path}`);
      expect(readFileSync(join(dir, path)).equals(served.data), path).toBe(true);
    }
    // a file where the folder should be: a one-line error, and the REPL goes on
    const blocked = join(dir, 'numbers.txt');
    expect(await repl.run(`download ${short} ${blocked}`)).toMatch(new RegExp(`^error: download: cannot save \\S+ into ${blocked}: [^\\n]+\\n$`));
  });

  it('submits the example DAG twice from a file; dags, dag and dag-metrics show the second run served from the cache', async () => {
    const dir = tempDir('repl-dag');
    const file = join(dir, 'train.yaml');
    writeFileSync(file, TRAIN_PIPELINE);
    const ids: string[] = [];
    for (const round of [1, 2]) {
      const out = await repl.run(`dag submit ${file}`);
      const id = /^submitted DAG run ([0-9a-f-]{36}) \(repl-train\): 2 tasks, 1 queued {2}\(dag [0-9a-f]{8} shows it\)\n$/.exec(out)?.[1];
      expect(id, out).toBeDefined();
      ids.push(id!);
      // poll with `dags` as an operator would, until the run has ended
      const listing = await waitFor(
        `run ${round} to end`,
        async () => {
          const text = await repl.run('dags repl-train');
          const row = text.split('\n').find((line) => line.startsWith(id!.slice(0, 8)));
          return row && !/\brunning\b/.test(row) ? text : undefined;
        },
        100_000,
        500,
      );
      const rows = listing.trim().split('\n');
      expect(rows[0]).toMatch(/^ID\s+NAME\s+STATUS\s+TASKS DONE\s+CACHE\s+STARTED\s+DURATION$/);
      // newest first: this run is the first row
      expect(rows[1]).toMatch(new RegExp(`^${id!.slice(0, 8)}\\s+repl-train\\s+succeeded\\s+2/2\\s+${round === 1 ? 'Miss' : 'Hit'}\\s+\\d+s ago\\s+(\\d+ms|\\d+\\.\\d\\ds)$`));
      expect(rows).toHaveLength(round + 1);
    }
    const [firstId, secondId] = ids as [string, string];

    // dag <id>: the tasks in dependency order, where they ran, and the input served from cache
    const rest = (await api.request<{ dag: DagBody }>('GET', `/api/dags/${secondId}`)).body.dag;
    expect(rest.status).toBe('succeeded');
    const shown = await repl.run(`dag ${secondId.slice(0, 8)}`);
    expect(shown).toMatch(new RegExp(`^id:\\s+${secondId}\n`));
    expect(shown).toMatch(/\nstatus:\s+succeeded\n/);
    const taskRows = shown.split('Tasks (in dependency order)\n')[1]!.split('\n');
    expect(taskRows[0]).toMatch(/^NAME\s+STATUS\s+TASK\s+WORKER\s+ATTEMPTS\s+EXIT\s+DEPENDS ON\s+REASON$/);
    const workerPrefix = worker.workerId.slice(0, 8);
    expect(taskRows[1]).toMatch(new RegExp(`^generate-data\\s+succeeded\\s+${rest.tasks[0]!.taskId!.slice(0, 8)}\\s+${workerPrefix}\\s+1\\s+0\\s+-\\s+-$`));
    expect(taskRows[2]).toMatch(new RegExp(`^train-model\\s+succeeded\\s+${rest.tasks[1]!.taskId!.slice(0, 8)}\\s+${workerPrefix}\\s+1\\s+0\\s+generate-data\\s+-$`));
    expect(rest.tasks[1]!.inputs[0]).toMatchObject({ name: 'data.txt', cache: 'hit', size: DATA_TXT_BYTES });
    expect(shown).toMatch(new RegExp(`\\nInputs\\nTASK\\s+INPUT\\s+FROM\\s+CACHE\\s+BYTES\\s+SHA256\\ntrain-model\\s+data\\.txt\\s+generate-data\\s+hit\\s+${DATA_TXT_BYTES} \\(575Ki\\)\\s+[0-9a-f]{16}\\n`));
    expect(shown).toMatch(/\nArtifacts\n[^\n]+\ngenerate-data\s+data\.txt\s+588895 \(575Ki\)\s+[0-9a-f]{16}\ntrain-model\s+weights\.txt\s+/);
    // the DAG task is an ordinary task whose REST view names its run, inputs and outputs
    const trainTask = (await api.request<{ task: Record<string, unknown> }>('GET', `/api/tasks/${rest.tasks[1]!.taskId}`)).body.task;
    expect(trainTask).toMatchObject({ dagId: secondId, dagTask: 'train-model', outputs: ['weights.txt'] });
    expect(trainTask.inputs).toEqual([{ name: 'data.txt', fromTask: 'generate-data', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: DATA_TXT_BYTES }]);
    const plainTask = (await api.request<{ tasks: Record<string, unknown>[] }>('GET', '/api/tasks?limit=500')).body.tasks.find((t) => t.name === 'outputs')!;
    for (const field of ['dagId', 'dagTask', 'inputs', 'outputs']) expect(plainTask, field).not.toHaveProperty(field);
    // the first run downloaded it
    expect(await repl.run(`dag ${firstId.slice(0, 8)}`)).toMatch(/\ntrain-model\s+data\.txt\s+generate-data\s+miss\s+588895 /);

    // dag-metrics: both runs newest first, the numbers REST serves, and the comparison line
    const metrics = (await api.request<{ runs: RunMetricsBody[] }>('GET', '/api/dags/repl-train/metrics')).body.runs;
    expect(metrics.map((m) => [m.dagId, m.cacheHit])).toEqual([
      [secondId, 'Hit'],
      [firstId, 'Miss'],
    ]);
    const out = await repl.run('dag-metrics repl-train');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STARTED\s+DURATION\s+CACHE\s+HIT TASKS\s+MISS TASKS\s+BYTES FROM CACHE\s+BYTES DOWNLOADED\s+TASKS OK\/ALL\s+NODES$/);
    expect(lines[1]).toMatch(new RegExp(`^${secondId.slice(0, 8)}\\s+succeeded\\s+\\S+\\s+\\S+\\s+Hit\\s+1\\s+0\\s+${DATA_TXT_BYTES}\\s+0\\s+2/2\\s+${workerPrefix}$`));
    expect(lines[2]).toMatch(new RegExp(`^${firstId.slice(0, 8)}\\s+succeeded\\s+\\S+\\s+\\S+\\s+Miss\\s+0\\s+1\\s+0\\s+${DATA_TXT_BYTES}\\s+2/2\\s+${workerPrefix}$`));
    expect(metrics[0]!.bytesFromCache).toBe(DATA_TXT_BYTES);
    expect(lines[3]).toMatch(/^cached \(Hit\/Partial\): 1 run, average (\d+ms|\d+\.\d\ds); uncached \(Miss\/N\/A\): 1 run, average (\d+ms|\d+\.\d\ds); cached runs took \d+% (less|more) time$/);
    expect(await repl.run('dag-metrics repl-train --limit 1')).toMatch(new RegExp(`\\n${secondId.slice(0, 8)}\\s+succeeded[^\\n]+\\ncached \\(Hit/Partial\\): 1 run`));
  });

  it('answers a bad DAG file, a missing file and wrong DAG arguments with one error line each', async () => {
    const dir = tempDir('repl-dag-bad');
    const cycle = { dagName: 'loop', tasks: [{ name: 'a', image: TEST_IMAGE, depends_on: ['b'] }, { name: 'b', image: TEST_IMAGE, depends_on: ['a'] }] };
    writeFileSync(join(dir, 'cycle.json'), JSON.stringify(cycle));
    const rest = await api.request<{ error: { code: string; message: string } }>('POST', '/api/dags', cycle);
    expect(rest.status).toBe(400);
    expect(rest.body.error.message).toMatch(/^cycle: /);
    // the same message as REST's 400
    expect(await repl.run(`dag submit ${join(dir, 'cycle.json')}`)).toBe(`error: ${rest.body.error.message}\n`);
    writeFileSync(join(dir, 'typo.yaml'), `dagName: typo\ntasks:\n  - {name: train, image: ${TEST_IMAGE}}\n  - {name: eval, image: ${TEST_IMAGE}, depends_on: [trian]}\n`);
    const errors: [string, RegExp][] = [
      [`dag submit ${join(dir, 'typo.yaml')}`, /^error: tasks\[1\]\.depends_on: unknown task "trian" \(did you mean "train"\?\)$/],
      [`dag submit ${join(dir, 'nope.yaml')}`, new RegExp(`^error: dag submit: cannot read ${join(dir, 'nope.yaml')}: no such file$`)],
      [`dag submit ${dir}`, new RegExp(`^error: dag submit: ${dir} is not a file$`)],
      ['dag submit', /^error: dag: submit needs a DAG file \(YAML or JSON\) \(usage: dag <id> \| dag submit <file> \| dag retry <id> \| dag rerun <id>\)$/],
      ['dag', /^error: dag: needs <id> \(usage: dag <id> \| dag submit <file> \| dag retry <id> \| dag rerun <id>\)$/],
      ['dag zz-top', /^error: "zz-top" is not a DAG run id/],
      ['dag abcdef', /^error: no DAG run id starts with "abcdef"$/],
      ['dag-metrics', /^error: dag-metrics: needs <name> \(usage: dag-metrics <name> \[--limit N\]\)$/],
      ['dag-metrics ../etc', /^error: dag-metrics: "\.\.\/etc" is not a DAG name/],
      ['dag-metrics repl-train --limit 0', /^error: dag-metrics: --limit takes a whole number 1-500 \(got "0"\)/],
      ['dags --bogus', /^error: dags: unknown option --bogus/],
    ];
    for (const [command, expected] of errors) {
      const out = await repl.run(command);
      expect(out.trimEnd().split('\n'), command).toHaveLength(1);
      expect(out.trimEnd(), command).toMatch(expected);
    }
    // nothing was submitted by the refused files
    expect((await api.request<{ dags: { name: string }[] }>('GET', '/api/dags')).body.dags.map((d) => d.name)).not.toContain('typo');
    expect(await repl.run('dag-metrics loop')).toBe('no runs of DAG loop\n');
    const help = await repl.run('help dag');
    expect(help).toMatch(/^dag <id> \| dag submit <file> \| dag retry <id> \| dag rerun <id>\n/);
    expect(help).toContain('dag submit <file>  reads a DAG file (YAML or JSON');
  });

  it('leaves the REPL at the end of input and keeps the master running', async () => {
    const { httpUrl } = repl.banner();
    repl.child.stdin!.end();
    await repl.expect(/left the REPL; the master keeps running \(Ctrl-C or SIGTERM stops it\)\n/);
    expect((await fetch(`${httpUrl}/health`)).status).toBe(200);
    repl.child.kill('SIGTERM');
    expect(await repl.exited).toBe(0);
  });
});
