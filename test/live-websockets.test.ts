// WebSockets as the dashboard uses them, against a real master, real workers on the real
// Docker engine, and real sockets over loopback: task state and log streams, telemetry that
// shows a worker and then shows it lost when its process is killed, refused upgrades, and a
// client that stops reading being cut off with `lagged` while another keeps receiving.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, spawnWorkerProcess, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';
import { openSocket, openStalledSocket, RefusedUpgrade, type LiveMessage } from './support/ws-client.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

interface TelemetryBody {
  id: string;
  status: string;
  connected: boolean;
  usage: { cpuPercent: number } | null;
  capacity: { cpu: number };
  reserved: { cpu: number; memory: number };
  runningTasks: number;
  running: { taskId: string; attemptId: string; name: string; resources: { cpu: number; memory: number } }[];
  at: string;
  lastHeartbeatAt: string;
}

const wsUrl = (master: Master, path: string) => `${master.httpUrl.replace(/^http/, 'ws')}${path}`;

function removeContainersOf(workerId: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}

/** statuses in the order seen, repeats folded */
function statusesOf(messages: LiveMessage[], taskId: string): string[] {
  const seen: string[] = [];
  for (const m of messages) {
    const task = m.task as { id: string; status: string } | undefined;
    if (m.type !== 'task' || task?.id !== taskId) continue;
    if (seen.at(-1) !== task.status) seen.push(task.status);
  }
  return seen;
}

function logText(messages: LiveMessage[], stream: string): string {
  return messages
    .filter((m) => m.type === 'log' && m.stream === stream)
    .map((m) => String(m.data))
    .join('');
}

describe('WebSockets on a master with a Docker worker', () => {
  let master: Master;
  let worker: WorkerHandle;
  let ada: ApiClient;
  let bob: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster();
    worker = await startTestWorker(master, { name: 'live-docker' });
    ada = await ApiClient.registered(master.httpUrl, 'ada@example.com');
    bob = await ApiClient.registered(master.httpUrl, 'bob@example.com');
  });

  afterAll(async () => {
    await worker?.stop();
    if (worker) removeContainersOf(worker.workerId);
    await master?.stop();
    removeTempDirs();
  });

  it('refuses an upgrade without a valid token with 401 and a JSON error', async () => {
    for (const token of [undefined, 'not-a-jwt']) {
      const refused = await openSocket(wsUrl(master, '/ws/telemetry'), token === undefined ? {} : { token }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(RefusedUpgrade);
      const { status, contentType, body } = refused as RefusedUpgrade;
      expect(status).toBe(401);
      expect(contentType).toContain('application/json');
      expect((JSON.parse(body) as { error: { code: string; message: string } }).error.code).toBe('unauthenticated');
    }
  });

  it('answers 404 for an unknown path, an unknown worker and another user\'s task', async () => {
    const task = await ada.request<{ task: { id: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', resources: { cpu: 0.1, memory: '32Mi' } });
    for (const [path, client] of [
      ['/ws/nothing-here', ada],
      ['/ws/telemetry/no-such-worker', ada],
      [`/ws/tasks/${task.body.task.id}/logs`, bob],
      ['/ws/tasks/no-such-task/logs', ada],
    ] as const) {
      const refused = await openSocket(wsUrl(master, path), { token: client.token! }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, path).toBeInstanceOf(RefusedUpgrade);
      expect((refused as RefusedUpgrade).status, path).toBe(404);
      expect((JSON.parse((refused as RefusedUpgrade).body) as { error: { code: string } }).error.code).toBe('not_found');
    }
    await waitFor('the probe task to finish', async () => {
      const body = (await ada.request<{ task: { status: string } }>('GET', `/api/tasks/${task.body.task.id}`)).body;
      return body.task.status === 'succeeded';
    });
  });

  it('shows a task going queued → running → succeeded, and its log lines in order, stdout and stderr marked', async () => {
    const events = await openSocket(wsUrl(master, '/ws/events'), { token: ada.token! });
    const bobEvents = await openSocket(wsUrl(master, '/ws/events'), { token: bob.token!, header: false }); // ?token= works too
    const command = 'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; echo "oops on stderr" >&2; sleep 0.5; echo done';
    const submitted = await ada.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      name: 'counting',
      command,
      resources: { cpu: 0.1, memory: '32Mi' },
    });
    expect(submitted.status).toBe(201);
    const taskId = submitted.body.task.id;
    // follow the log while the task is still queued: every line must arrive, live
    const live = await openSocket(wsUrl(master, `/ws/tasks/${taskId}/logs`), { token: ada.token! });
    const complete = await live.next('the complete message', (m) => m.type === 'complete', 60_000);
    expect(complete).toEqual({ type: 'complete', status: 'succeeded', exitCode: 0 });
    expect((await live.closed).code).toBe(1000);

    const expected = `${Array.from({ length: 300 }, (_, i) => `line ${i + 1}\n`).join('')}done\n`;
    expect(logText(live.messages, 'stdout')).toBe(expected);
    expect(logText(live.messages, 'stderr')).toBe('oops on stderr\n');
    const first = live.messages.find((m) => m.type === 'log')!;
    expect(first).toMatchObject({ attempt: 1, attemptId: expect.any(String) as unknown });
    expect(live.messages.at(-1)!.type).toBe('complete');

    await events.next('the succeeded event', (m) => m.type === 'task' && (m.task as { status: string }).status === 'succeeded');
    expect(statusesOf(events.messages, taskId)).toEqual(['queued', 'assigned', 'running', 'succeeded']);
    const succeeded = events.messages.find((m) => m.type === 'task' && (m.task as { status: string }).status === 'succeeded')!.task as Record<string, unknown>;
    expect(succeeded).toMatchObject({ id: taskId, name: 'counting', exitCode: 0, userId: expect.any(String) as unknown });
    expect(succeeded).not.toHaveProperty('attempts');
    expect(succeeded).not.toHaveProperty('events');
    // bob sees only his own tasks: none of ada's
    expect(bobEvents.messages.filter((m) => m.type === 'task')).toEqual([]);
    // users are not told about workers
    expect(events.messages.filter((m) => m.type === 'worker')).toEqual([]);

    // once the task is over, a new follower gets the stored lines, then complete at once
    const replay = await openSocket(wsUrl(master, `/ws/tasks/${taskId}/logs`), { token: ada.token!, header: false });
    await replay.next('complete after the stored lines', (m) => m.type === 'complete');
    expect(logText(replay.messages, 'stdout')).toBe(expected);
    expect(replay.messages.at(-1)).toEqual({ type: 'complete', status: 'succeeded', exitCode: 0 });
    expect((await replay.closed).code).toBe(1000);

    events.close();
    bobEvents.close();
  });

  it('reports a failed task\'s status and exit code in complete', async () => {
    const submitted = await ada.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'echo bye; exit 3',
      resources: { cpu: 0.1, memory: '32Mi' },
    });
    const live = await openSocket(wsUrl(master, `/ws/tasks/${submitted.body.task.id}/logs`), { token: ada.token! });
    const complete = await live.next('complete', (m) => m.type === 'complete', 60_000);
    expect(complete).toEqual({ type: 'complete', status: 'failed', exitCode: 3 });
    expect(logText(live.messages, 'stdout')).toBe('bye\n');
  });
});

describe('telemetry of a worker process that is killed', () => {
  let master: Master;
  let spawned: ReturnType<typeof spawnWorkerProcess> | undefined;
  let workerId = '';

  beforeAll(async () => {
    master = await startTestMaster();
  });

  afterAll(async () => {
    if (spawned && spawned.child.exitCode === null) spawned.child.kill('SIGKILL');
    if (workerId) removeContainersOf(workerId);
    await master?.stop();
    removeTempDirs();
  });

  it('shows the worker with its usage and running task, then pushes it lost when it is killed', async () => {
    const admin = await ApiClient.admin(master.httpUrl);
    const user = await ApiClient.registered(master.httpUrl, 'watcher@example.com');
    const all = await openSocket(wsUrl(master, '/ws/telemetry'), { token: user.token! });
    const adminEvents = await openSocket(wsUrl(master, '/ws/events'), { token: admin.token! });
    const snapshot = await all.next('the snapshot', (m) => m.type === 'snapshot');
    expect(snapshot).toEqual({ type: 'snapshot', workers: [] });

    spawned = spawnWorkerProcess(master, ['--name', 'doomed']);
    const joined = await adminEvents.next('a worker joined event', (m) => m.type === 'worker' && m.event === 'joined', 60_000);
    workerId = (joined.worker as { id: string }).id;
    await adminEvents.next('a worker ready event', (m) => m.type === 'worker' && m.event === 'ready');

    const ready = await all.next(
      'telemetry with usage',
      (m) => m.type === 'telemetry' && (m.worker as TelemetryBody).status === 'ready' && (m.worker as TelemetryBody).usage !== null,
      60_000,
    );
    const view = ready.worker as TelemetryBody;
    expect(view).toMatchObject({ id: workerId, status: 'ready', connected: true, running: [] });
    expect(view.capacity.cpu).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(view.at))).toBe(false);

    // one worker's stream: a snapshot of just it, then its heartbeats
    const one = await openSocket(wsUrl(master, `/ws/telemetry/${workerId}`), { token: user.token! });
    const own = await one.next('its snapshot', (m) => m.type === 'snapshot');
    expect((own.workers as TelemetryBody[]).map((w) => w.id)).toEqual([workerId]);
    const before = one.messages.length;
    await one.next('a heartbeat', (m) => one.messages.indexOf(m) >= before && m.type === 'telemetry');

    // a running task shows with its reservation
    const task = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      name: 'sleeper',
      command: 'sleep 60',
      resources: { cpu: 0.25, memory: '64Mi' },
    });
    const busy = await all.next(
      'telemetry showing the running task',
      (m) => m.type === 'telemetry' && (m.worker as TelemetryBody).running.length === 1 && (m.worker as TelemetryBody).runningTasks === 1,
      60_000,
    );
    const running = (busy.worker as TelemetryBody).running[0]!;
    expect(running).toMatchObject({ taskId: task.body.task.id, name: 'sleeper', resources: { cpu: 0.25, memory: 64 * 1024 * 1024 } });
    expect((busy.worker as TelemetryBody).reserved).toMatchObject({ cpu: 0.25, memory: 64 * 1024 * 1024 });

    // GET /telemetry and the history ring agree
    const rest = await user.request<{ workers: TelemetryBody[] }>('GET', '/telemetry');
    expect(rest.status).toBe(200);
    expect(rest.body.workers.map((w) => w.id)).toEqual([workerId]);
    const history = await user.request<{ workerId: string; intervalMs: number; samples: { at: string; cpuPercent: number; runningTasks: number; reserved: { cpu: number } }[] }>(
      'GET',
      `/api/workers/${workerId}/metrics`,
    );
    expect(history.status).toBe(200);
    expect(history.body.workerId).toBe(workerId);
    expect(history.body.intervalMs).toBe(300);
    expect(history.body.samples.length).toBeGreaterThan(1);
    const times = history.body.samples.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const lastAt = history.body.samples.at(-1)!.at;
    const since = await user.request<{ samples: { at: string }[] }>('GET', `/api/workers/${workerId}/metrics?since=${encodeURIComponent(lastAt)}`);
    expect(since.body.samples.map((s) => s.at)).toEqual([lastAt]);
    expect((await user.request('GET', '/api/workers/nobody/metrics')).status).toBe(404);
    const bad = await user.request<{ error: { code: string } }>('GET', `/api/workers/${workerId}/metrics?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect((await new ApiClient(master.httpUrl).request('GET', '/telemetry')).status).toBe(401);

    // kill -9: no goodbye; the master must notice the silence and push `lost`
    const killedAt = Date.now();
    spawned.child.kill('SIGKILL');
    const lost = await all.next('telemetry saying lost', (m) => m.type === 'telemetry' && (m.worker as TelemetryBody).status === 'lost', 30_000);
    expect((lost.worker as TelemetryBody).id).toBe(workerId);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    // its task is taken back (re-queued) and that is pushed too, though the worker is silent
    await all.next(
      'telemetry of the lost worker without its task',
      (m) => m.type === 'telemetry' && (m.worker as TelemetryBody).status === 'lost' && (m.worker as TelemetryBody).running.length === 0,
    );
    const requeued = await user.request<{ task: { status: string; reason: string } }>('GET', `/api/tasks/${task.body.task.id}`);
    expect(requeued.body.task.status).toBe('queued');
    await one.next('the single-worker stream saying lost', (m) => m.type === 'telemetry' && (m.worker as TelemetryBody).status === 'lost');
    await adminEvents.next('a worker lost event', (m) => m.type === 'worker' && m.event === 'lost' && (m.worker as { id: string }).id === workerId);
    const after = await user.request<{ workers: TelemetryBody[] }>('GET', '/telemetry');
    expect(after.body.workers[0]).toMatchObject({ id: workerId, status: 'lost', connected: false });
    all.close();
    one.close();
    adminEvents.close();
  });
});

describe('a client that stops reading', () => {
  let master: Master;
  let worker: WorkerHandle;

  beforeAll(async () => {
    // a small bound (1 MiB) so the test needs only a few MiB of log output
    master = await startTestMaster({ WHARF_WS_MAX_BUFFER: '1Mi' });
    worker = await startTestWorker(master, { name: 'live-lag' });
  });

  afterAll(async () => {
    await worker?.stop();
    if (worker) removeContainersOf(worker.workerId);
    await master?.stop();
    removeTempDirs();
  });

  it('is cut off with lagged and close 4008 while another client receives every line', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'lag@example.com');
    const lines = 200_000; // ~14 MB: more than the kernel's socket buffers and the bound together
    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: `sleep 1; yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -n ${lines}`,
      resources: { cpu: 0.5, memory: '64Mi' },
    });
    const taskId = submitted.body.task.id;
    const stalled = await openStalledSocket(master.httpPort, `/ws/tasks/${taskId}/logs`, user.token!);
    const reader = await openSocket(wsUrl(master, `/ws/tasks/${taskId}/logs`), { token: user.token! });
    const telemetry = await openSocket(wsUrl(master, '/ws/telemetry'), { token: user.token! });

    const complete = await reader.next('complete for the reading client', (m) => m.type === 'complete', 110_000);
    expect(complete).toMatchObject({ type: 'complete', status: 'succeeded', exitCode: 0 });
    const text = logText(reader.messages, 'stdout');
    expect(text.length).toBe(lines * 'the quick brown fox jumps over the lazy dog 0123456789\n'.length);
    expect(text.split('\n').filter(Boolean).every((l) => l === 'the quick brown fox jumps over the lazy dog 0123456789')).toBe(true);
    // other sockets kept receiving meanwhile
    expect(telemetry.messages.filter((m) => m.type === 'telemetry').length).toBeGreaterThan(0);

    // the stalled client, reading at last, finds what it was sent: some lines, then lagged and 4008
    const { texts, closeCode } = await stalled.drain();
    expect(closeCode).toBe(4008);
    expect(texts.at(-1)).toMatchObject({ type: 'lagged', message: expect.stringContaining('did not read fast enough') as unknown });
    expect(texts.filter((m) => m.type === 'complete')).toEqual([]);
    const partial = logText(texts, 'stdout');
    expect(partial.length).toBeLessThan(text.length);
    expect(text.startsWith(partial)).toBe(true); // what it got is a gap-free prefix

    const metrics = await fetch(`${master.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^wharf_websocket_lagged_total\{channel="logs"\} 1$/m);
    telemetry.close();
  });
});

describe('ping and pong', () => {
  let master: Master;

  beforeAll(async () => {
    master = await startTestMaster({ WHARF_WS_PING_INTERVAL: '1s' });
  });

  afterAll(async () => {
    await master?.stop();
    removeTempDirs();
  });

  it('keeps a client that answers pings and ends one that does not', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'pings@example.com');
    const polite = await openSocket(wsUrl(master, '/ws/events'), { token: user.token! });
    const silent = await openSocket(wsUrl(master, '/ws/events'), { token: user.token!, autoPong: false });
    const pinged = new Promise<void>((resolve) => silent.ws.once('ping', () => resolve()));
    await pinged;
    // the next round finds no pong and terminates the socket: no close frame, code 1006
    const { code } = await silent.closed;
    expect(code).toBe(1006);
    expect(polite.ws.readyState).toBe(polite.ws.OPEN);
    // the polite client is still served
    await user.request('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', resources: { gpu: 1 } });
    await polite.next('its task event', (m) => m.type === 'task');
    polite.close();
  });

  it('tells its clients with close 1001 when the master stops', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'stopping@example.com');
    const socket = await openSocket(wsUrl(master, '/ws/telemetry'), { token: user.token! });
    await socket.next('the snapshot', (m) => m.type === 'snapshot');
    await master.stop();
    expect((await socket.closed).code).toBe(1001);
  });
});
