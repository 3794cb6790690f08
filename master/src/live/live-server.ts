// WebSockets on the master's HTTP port (docs/API.md, "WebSockets"). Transport only: it
// authenticates the upgrade, then relays what the domain already publishes:
//   /ws/telemetry[/:workerId]  snapshot, then one `telemetry` per heartbeat and status change
//   /ws/events                 `task` changes the caller may see; `worker` events for admins
//   /ws/tasks/:id/logs         stored log, live log, then `complete` and close 1000
// Auth: `Authorization: Bearer <jwt>` or `?token=<jwt>`; a refused upgrade is answered with an
// HTTP status and a JSON error body (401 bad/missing token, 404 unknown path, worker or task).
// An open socket ends with `{type:"error", code:"unauthenticated"}` and close 4401 the moment its
// token expires or is revoked (logout, disable, deletion, role change, API token revoked).
// Telemetry shows a non-admin only their own tasks on the workers.
// Each client has a bounded queue (live-client.ts): a slow one is cut off with `lagged`, never
// stalling the master or the others. A ping every `pingIntervalMs` ends clients that stopped
// answering.
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { watchCredential } from '../auth/credential-watch.js';
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import { WharfError } from '../errors.js';
import { taskView, workerTelemetryView, workerView } from '../http/views.js';
import type { Logger } from '../logger.js';
import { assertFilesKept } from '../files/files-removed.js';
import { followTaskLogs, type FollowedAttempt } from '../logs/log-follower.js';
import type { LogStore } from '../logs/log-store.js';
import type { MasterMetrics } from '../metrics/master-metrics.js';
import type { Task, TaskDetails } from '../records/task.js';
import type { User } from '../records/user.js';
import type { TaskService } from '../tasks/task-service.js';
import type { TelemetryService } from '../telemetry/telemetry-service.js';
import type { GangService } from '../gangs/gang-service.js';
import { gangSummaryView } from '../http/gang-routes.js';
import type { Gang } from '../records/gang.js';
import { LiveClient, type LiveChannel } from './live-client.js';

export interface LiveServerDeps {
  auth: AuthService;
  tasks: TaskService;
  registry: WorkerRegistry;
  logs: LogStore;
  telemetry: TelemetryService;
  metrics?: MasterMetrics | undefined;
  /** gang status changes go to /ws/events as {type: "gang"}; absent = none */
  gangs?: Pick<GangService, 'onChange'> | undefined;
  logger: Logger;
}

export interface LiveServerOptions {
  /** how often every client is pinged; one that has not answered the previous ping is ended */
  pingIntervalMs: number;
  /** unsent bytes a client may have before it gets `lagged` and is closed (4 MiB by default) */
  maxBufferedBytes: number;
}

type Route =
  | { channel: 'telemetry'; workerId?: string | undefined }
  | { channel: 'events' }
  | { channel: 'logs'; taskId: string };

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The path of a WebSocket route, or undefined for an unknown one. */
export function matchLiveRoute(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter((p, i) => i > 0 || p !== '');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // a trailing slash
  if (parts[0] !== 'ws') return undefined;
  if (parts[1] === 'telemetry' && parts.length === 2) return { channel: 'telemetry' };
  if (parts[1] === 'telemetry' && parts.length === 3 && ID.test(parts[2]!)) return { channel: 'telemetry', workerId: parts[2] };
  if (parts[1] === 'events' && parts.length === 2) return { channel: 'events' };
  if (parts[1] === 'tasks' && parts.length === 4 && parts[3] === 'logs' && ID.test(parts[2]!)) return { channel: 'logs', taskId: parts[2]! };
  return undefined;
}

const WORKER_EVENTS = new Set(['joined', 'ready', 'draining', 'lost', 'removed']);

export class LiveServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false, clientTracking: false });
  private readonly clients = new Set<LiveClient>();
  private readonly telemetryClients = new Map<LiveClient, { workerId: string | undefined; viewer: User }>();
  private readonly eventClients = new Map<LiveClient, User>();
  /** sockets between the upgrade request and the WebSocket (auth in flight) */
  private readonly pending = new Set<Duplex>();
  private readonly unsubscribers: (() => void)[] = [];
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly deps: LiveServerDeps,
    private readonly options: LiveServerOptions,
  ) {
    this.unsubscribers.push(
      deps.telemetry.onUpdate((update) => this.broadcastTelemetry(update.workerId)),
      deps.registry.onWorkerEvent((event) => {
        if (WORKER_EVENTS.has(event.kind)) this.broadcastWorkerEvent(event.kind, event.workerId);
      }),
      deps.tasks.onTaskChange((task) => this.broadcastTask(task)),
    );
    if (deps.gangs) this.unsubscribers.push(deps.gangs.onChange((gang) => this.broadcastGang(gang)));
  }

  /** Takes over WebSocket upgrades on the master's HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.pingTimer = setInterval(() => this.pingAll(), this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  /**
   * Ends every connection (master stopping): clients get close code 1001; one that has not
   * finished the closing handshake within `graceMs` is cut (the HTTP server's close waits for
   * these sockets).
   */
  async close(graceMs = 500): Promise<void> {
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    const sockets = [...this.clients].map((client) => client.socket);
    const closed = sockets.map((socket) =>
      socket.readyState === socket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    for (const client of [...this.clients]) client.closeGoingAway();
    this.clients.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const socket of sockets) socket.terminate();
    this.wss.close();
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  // ------------------------------------------------------------------ upgrade and auth

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closed) {
      refuse(socket, new WharfError('unavailable', 'the master is stopping'));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = matchLiveRoute(url.pathname);
    if (!route) {
      refuse(socket, new WharfError('not_found', `no WebSocket route ${url.pathname.slice(0, 200)}`));
      return;
    }
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : (url.searchParams.get('token') ?? undefined);
    if (!token) {
      refuse(socket, new WharfError('unauthenticated', 'missing token (Authorization: Bearer <token> or ?token=<token>)'));
      return;
    }
    this.pending.add(socket);
    this.authorize(route, token).then(
      ({ principal, details }) => {
        this.pending.delete(socket);
        if (this.closed || socket.destroyed) {
          socket.destroy();
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, route, principal, details));
      },
      (error: unknown) => {
        this.pending.delete(socket);
        const wharf = WharfError.from(error);
        if (wharf.code === 'internal') this.deps.logger.error({ err: error, path: url.pathname }, 'websocket upgrade failed');
        refuse(socket, wharf);
      },
    );
  }

  /** The caller, and for a log stream the task they may see (or a 401/404 error). */
  private async authorize(route: Route, token: string): Promise<{ principal: Principal; details?: TaskDetails | undefined }> {
    const principal = await this.deps.auth.authenticatePrincipal(token);
    const user = principal.user;
    if (route.channel === 'telemetry' && route.workerId !== undefined && !this.deps.registry.get(route.workerId)) {
      throw new WharfError('not_found', `worker ${route.workerId} not found`);
    }
    if (route.channel === 'logs') {
      const details = await this.deps.tasks.get(user, route.taskId);
      assertFilesKept(details);
      return { principal, details };
    }
    return { principal };
  }

  private open(ws: WebSocket, route: Route, principal: Principal, details: TaskDetails | undefined): void {
    const user = principal.user;
    const { metrics } = this.deps;
    const channel: LiveChannel = route.channel;
    const client = new LiveClient(ws, channel, {
      maxBufferedBytes: this.options.maxBufferedBytes,
      logger: this.deps.logger.child({
        channel,
        userId: user.id,
        ...(route.channel === 'logs' ? { taskId: route.taskId } : {}),
        ...(route.channel === 'telemetry' && route.workerId !== undefined ? { workerId: route.workerId } : {}),
      }),
      onSent: metrics ? () => metrics.webSocketSent(channel) : undefined,
      onLagged: metrics ? () => metrics.webSocketLagged(channel) : undefined,
    });
    this.clients.add(client);
    metrics?.webSocketOpened(channel);
    client.onClose(() => {
      this.clients.delete(client);
      this.telemetryClients.delete(client);
      this.eventClients.delete(client);
      metrics?.webSocketClosed(channel);
    });
    // the socket ends with its token: at its expiry, or at once when it is revoked
    const stopWatch = watchCredential(this.deps.auth, principal, (end) => {
      this.deps.logger.debug({ channel, userId: user.id, reason: end.reason }, 'websocket token ended; closing it');
      client.endUnauthenticated(`${end.reason}; log in again`, end.kind === 'expired' ? 'token expired' : 'token revoked');
    });
    client.onClose(stopWatch);
    if (client.isClosed) return;
    this.deps.logger.debug({ channel, userId: user.id }, 'websocket open');
    switch (route.channel) {
      case 'telemetry':
        this.openTelemetry(client, route.workerId, user);
        return;
      case 'events':
        this.eventClients.set(client, user);
        return;
      case 'logs':
        this.openLogs(client, user, details!);
        return;
    }
  }

  // ------------------------------------------------------------------ telemetry

  private openTelemetry(client: LiveClient, workerId: string | undefined, viewer: User): void {
    const { telemetry } = this.deps;
    const one = workerId === undefined ? undefined : telemetry.worker(workerId);
    const workers = workerId === undefined ? telemetry.snapshot() : one ? [one] : [];
    client.send({ type: 'snapshot', workers: workers.map((worker) => workerTelemetryView(worker, viewer)) });
    this.telemetryClients.set(client, { workerId, viewer });
  }

  private broadcastTelemetry(workerId: string): void {
    if (this.telemetryClients.size === 0) return;
    // one message for the admins and one per other viewer (each sees only their own tasks)
    const messages = new Map<string, string>();
    let worker: ReturnType<TelemetryService['worker']> | null = null;
    for (const [client, { workerId: wanted, viewer }] of this.telemetryClients) {
      if (wanted !== undefined && wanted !== workerId) continue;
      if (worker === null) worker = this.deps.telemetry.worker(workerId);
      if (!worker) return;
      const audience = viewer.role === 'admin' ? 'admin' : `user:${viewer.id}`;
      let message = messages.get(audience);
      if (message === undefined) {
        message = JSON.stringify({ type: 'telemetry', worker: workerTelemetryView(worker, viewer) });
        messages.set(audience, message);
      }
      client.send(message);
    }
  }

  // ------------------------------------------------------------------ events

  private broadcastTask(task: Task): void {
    if (this.eventClients.size === 0) return;
    let message: string | undefined;
    for (const [client, user] of this.eventClients) {
      if (user.role !== 'admin' && user.id !== task.userId) continue;
      message ??= JSON.stringify({ type: 'task', task: taskView(task) });
      client.send(message);
    }
  }

  private broadcastGang(gang: Gang): void {
    if (this.eventClients.size === 0) return;
    let message: string | undefined;
    for (const [client, user] of this.eventClients) {
      if (user.role !== 'admin' && user.id !== gang.userId) continue;
      message ??= JSON.stringify({ type: 'gang', gang: gangSummaryView(gang) });
      client.send(message);
    }
  }

  private broadcastWorkerEvent(event: string, workerId: string): void {
    if (this.eventClients.size === 0) return;
    let message: string | undefined;
    for (const [client, user] of this.eventClients) {
      if (user.role !== 'admin') continue;
      if (message === undefined) {
        // a removed worker has no view any more: its id says which one went
        if (event === 'removed') {
          message = JSON.stringify({ type: 'worker', event, worker: { id: workerId } });
        } else {
          const telemetry = this.deps.telemetry.worker(workerId);
          if (!telemetry) return;
          message = JSON.stringify({ type: 'worker', event, worker: workerView(telemetry.worker, telemetry.runningTasks) });
        }
      }
      client.send(message);
    }
  }

  // ------------------------------------------------------------------ logs

  private openLogs(client: LiveClient, user: User, details: TaskDetails): void {
    const taskId = details.id;
    // one decoder per attempt and stream: a chunk that ends inside a UTF-8 character keeps
    // its last bytes for the next chunk instead of sending a broken character
    const decoders = new Map<string, StringDecoder>();
    let replaying = true;
    const stop = followTaskLogs(
      this.deps,
      taskId,
      details.attempts.map((a): FollowedAttempt => ({ id: a.id, number: a.number, workerId: a.workerId })),
      true,
      {
        chunk: (entry, attempt) => {
          const key = `${entry.attemptId}/${entry.stream}`;
          let decoder = decoders.get(key);
          if (!decoder) {
            decoder = new StringDecoder('utf8');
            decoders.set(key, decoder);
          }
          const data = decoder.write(entry.data);
          if (data.length === 0) return;
          client.send(
            {
              type: 'log',
              attemptId: entry.attemptId,
              attempt: attempt?.number ?? 0,
              stream: entry.stream,
              data,
              // when the worker read the chunk (absent for logs stored before timestamps)
              ...(entry.atMs !== undefined ? { ts: new Date(entry.atMs).toISOString() } : {}),
            },
            { paced: replaying },
          );
        },
        end: (task) => {
          for (const [key, decoder] of decoders) {
            const rest = decoder.end();
            if (rest.length === 0) continue;
            const [attemptId = '', stream = 'stdout'] = key.split('/');
            client.send({ type: 'log', attemptId, attempt: details.attempts.find((a) => a.id === attemptId)?.number ?? 0, stream, data: rest });
          }
          this.complete(client, user, taskId, task);
        },
      },
    );
    replaying = false;
    client.onClose(stop);
  }

  /** `complete` with the task's final status, then close 1000. */
  private complete(client: LiveClient, user: User, taskId: string, final: Task | undefined): void {
    const send = (task: Task) => {
      client.send({ type: 'complete', status: task.status, exitCode: task.exitCode ?? null });
      client.end(1000, 'complete');
    };
    if (final) {
      send(final);
      return;
    }
    // the task was already terminal: read its final state
    this.deps.tasks.visibleTask(user, taskId).then(send, (error: unknown) => {
      const wharf = WharfError.from(error);
      if (wharf.code === 'internal') this.deps.logger.error({ err: error, taskId }, 'websocket log stream failed');
      client.fail(wharf.code, wharf.message, wharf.httpStatus);
    });
  }

  // ------------------------------------------------------------------ ping

  private pingAll(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.deps.logger.debug({ channel: client.channel }, 'websocket client missed a pong; terminating it');
        client.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.socket.ping();
      } catch {
        client.terminate();
      }
    }
  }
}

/** Answers a refused upgrade with an HTTP status and the usual JSON error body. */
function refuse(socket: Duplex, error: WharfError): void {
  if (socket.destroyed) return;
  const status = error.httpStatus;
  const body = JSON.stringify({ error: { code: error.code, message: error.code === 'internal' ? 'internal error' : error.message } });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  ];
  if (typeof error.details?.retryAfterSeconds === 'number') head.push(`Retry-After: ${error.details.retryAfterSeconds}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
