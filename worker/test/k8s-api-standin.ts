// A STAND-IN for the Kubernetes API server, for tests only. No cluster can run on the
// development machines, so this plain-http server on 127.0.0.1 answers the endpoints the
// kubernetes runtime uses, with the wire formats of the real API (checked against the
// @kubernetes/client-node 1.4 client that talks to it):
//
//   POST   /api/v1/namespaces/{ns}/pods                      create (409 AlreadyExists)
//   GET    /api/v1/namespaces/{ns}/pods/{name}               read (404 NotFound)
//   GET    /api/v1/namespaces/{ns}/pods?labelSelector=&fieldSelector=   list
//   GET    /api/v1/namespaces/{ns}/pods?watch=true&…&resourceVersion=   watch (JSON lines)
//   PATCH  /api/v1/namespaces/{ns}/pods/{name}               merge patch (activeDeadlineSeconds)
//   DELETE /api/v1/namespaces/{ns}/pods/{name}?gracePeriodSeconds=N     graceful delete
//   GET    /api/v1/namespaces/{ns}/pods/{name}/log?follow=true&timestamps=true&sinceTime=
//   GET    /api/v1/namespaces/{ns}/pods/{name}/exec?command=…  WebSocket, v4.channel.k8s.io:
//          binary frames whose first byte is the channel (1 stdout, 2 stderr, 3 status JSON)
//   GET    /api/v1/namespaces/{ns}/resourcequotas            list
//
// There is no kubelet: what happens to a pod is a script the test writes (`program`), using
// SimulatedPod to move it through the phases (Pending → Running → task terminated, pull
// errors, Unschedulable, eviction, deadline) and to write its log and its /output. /output is
// a real folder on this host, and exec runs the real `tar` on it, so the runtime unpacks a
// genuine tar stream.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

/** A pod as JSON (the stand-in does not need the client's classes). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PodJson = Record<string, any>;

interface LogLine {
  ts: string;
  nanos: bigint;
  text: string;
}

interface WatchClient {
  res: http.ServerResponse;
  labels: Record<string, string>;
  fields: Record<string, string>;
}

interface StoredEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: PodJson;
}

export interface StandinRequestRecord {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
}

const STATUS_CHANNEL = 3;

let clock = 0n;
/** Strictly increasing RFC 3339 timestamps with nanoseconds, as the kubelet writes them. */
function nowStamp(): { ts: string; nanos: bigint } {
  let nanos = BigInt(Date.now()) * 1_000_000n;
  if (nanos <= clock) nanos = clock + 1n;
  clock = nanos;
  const ms = Number(nanos / 1_000_000n);
  const iso = new Date(ms).toISOString().slice(0, 19);
  const frac = String(nanos % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return { ts: `${iso}${frac ? `.${frac}` : ''}Z`, nanos };
}

function stampNanos(ts: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return 0n;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function parseSelector(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function matches(pod: PodJson, labels: Record<string, string>, fields: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(labels)) if (pod['metadata']?.labels?.[k] !== v) return false;
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'metadata.name' && pod['metadata']?.name !== v) return false;
    if (k === 'metadata.namespace' && pod['metadata']?.namespace !== v) return false;
  }
  return true;
}

/** The test's handle on one simulated pod. */
export class SimulatedPod {
  readonly logs: LogLine[] = [];
  private readonly logFollowers = new Set<{ res: http.ServerResponse; after: bigint }>();
  /** What the task does on SIGTERM: undefined = ignores it (killed after the grace period). */
  exitCodeOnTerm: number | undefined;
  deletedAt: number | undefined;
  deleteGrace: number | undefined;

  constructor(
    private readonly server: K8sApiStandin,
    readonly name: string,
    readonly outputDir: string,
  ) {}

  get pod(): PodJson {
    const pod = this.server.pods.get(this.name);
    if (!pod) throw new Error(`pod ${this.name} does not exist`);
    return pod;
  }

  get exists(): boolean {
    return this.server.pods.has(this.name);
  }

  private containerStatus(name: string, image: string, state: PodJson, ready = false): PodJson {
    return { name, image, imageID: '', ready, restartCount: 0, started: state['running'] !== undefined, state };
  }

  private mutate(change: (pod: PodJson) => void): void {
    if (!this.exists) return;
    const pod = structuredClone(this.pod);
    change(pod);
    this.server.store(pod, 'MODIFIED');
  }

  private images(): { task: string; helper: string } {
    const containers = this.pod['spec'].containers as PodJson[];
    return { task: containers[0]?.['image'] ?? '', helper: containers[1]?.['image'] ?? '' };
  }

  /** PodScheduled=False, reason Unschedulable. */
  unschedulable(message: string): void {
    this.mutate((pod) => {
      pod['status'] = {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
      };
    });
  }

  /** Scheduled; containers waiting with `reason` (ContainerCreating, ErrImagePull, ImagePullBackOff…). */
  waiting(reason: string, message?: string): void {
    const { task, helper } = this.images();
    this.mutate((pod) => {
      pod['status'] = {
        phase: 'Pending',
        startTime: pod['status']?.startTime ?? new Date().toISOString(),
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [
          this.containerStatus('task', task, { waiting: message ? { reason, message } : { reason } }),
          this.containerStatus('wharf-outputs', helper, { waiting: { reason: 'ContainerCreating' } }),
        ],
      };
    });
  }

  /** The init container that stages inputs ended with a failure. */
  initFailed(message: string): void {
    const { task, helper } = this.images();
    this.mutate((pod) => {
      pod['status'] = {
        phase: 'Failed',
        startTime: new Date().toISOString(),
        initContainerStatuses: [
          this.containerStatus('wharf-inputs', helper, { terminated: { exitCode: 1, reason: 'Error', message } }),
        ],
        containerStatuses: [
          this.containerStatus('task', task, { waiting: { reason: 'PodInitializing' } }),
          this.containerStatus('wharf-outputs', helper, { waiting: { reason: 'PodInitializing' } }),
        ],
      };
    });
  }

  /** The task container and the outputs sidecar run. */
  run(): void {
    const { task, helper } = this.images();
    const startedAt = new Date().toISOString();
    this.mutate((pod) => {
      pod['status'] = {
        phase: 'Running',
        startTime: pod['status']?.startTime ?? startedAt,
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [
          this.containerStatus('task', task, { running: { startedAt } }, true),
          this.containerStatus('wharf-outputs', helper, { running: { startedAt } }, true),
        ],
      };
    });
  }

  /** The task writes a line to its log (stdout and stderr are one stream in this API). */
  log(text: string): void {
    const { ts, nanos } = nowStamp();
    const line = { ts, nanos, text: text.endsWith('\n') ? text : `${text}\n` };
    this.logs.push(line);
    for (const follower of this.logFollowers) follower.res.write(`${line.ts} ${line.text}`);
  }

  /** The task writes a file under /output. */
  async writeOutput(relativePath: string, content: string | Buffer): Promise<void> {
    const target = path.join(this.outputDir, relativePath);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }

  /** The task container ends with this exit code; the sidecar keeps running. */
  exit(exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error', message?: string): void {
    if (!this.exists) return;
    const finishedAt = new Date().toISOString();
    this.mutate((pod) => {
      const task = (pod['status'].containerStatuses as PodJson[]).find((c) => c['name'] === 'task');
      if (!task) return;
      const startedAt = task['state']?.running?.startedAt ?? finishedAt;
      task['state'] = { terminated: { exitCode, reason, startedAt, finishedAt, ...(message ? { message } : {}) } };
      task['ready'] = false;
      task['started'] = false;
    });
    this.endLogFollowers();
  }

  /** Every container is killed; the pod fails with this reason (Evicted, DeadlineExceeded). */
  failPod(reason: string, message: string): void {
    if (!this.exists) return;
    const finishedAt = new Date().toISOString();
    this.mutate((pod) => {
      for (const c of (pod['status'].containerStatuses ?? []) as PodJson[]) {
        if (c['state']?.running) {
          c['state'] = { terminated: { exitCode: 137, reason: 'Error', startedAt: c['state'].running.startedAt, finishedAt } };
        }
      }
      pod['status'].phase = 'Failed';
      pod['status'].reason = reason;
      pod['status'].message = message;
    });
    this.endLogFollowers();
  }

  /** Closes every open log follow of this pod early, as a real server may. */
  cutLogStreams(): void {
    for (const follower of this.logFollowers) follower.res.end();
    this.logFollowers.clear();
  }

  taskState(): PodJson | undefined {
    if (!this.exists) return undefined;
    return ((this.pod['status']?.containerStatuses ?? []) as PodJson[]).find((c) => c['name'] === 'task')?.['state'];
  }

  sidecarRunning(): boolean {
    if (!this.exists) return false;
    const sidecar = ((this.pod['status']?.containerStatuses ?? []) as PodJson[]).find((c) => c['name'] === 'wharf-outputs');
    return sidecar?.['state']?.running !== undefined;
  }

  /** @internal — the log endpoint. */
  serveLog(res: http.ServerResponse, query: URLSearchParams): void {
    const state = this.taskState();
    if (!state || state['waiting']) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(statusBody(400, 'BadRequest', `container "task" in pod "${this.name}" is waiting to start: ContainerCreating`));
      return;
    }
    const since = query.get('sinceTime');
    const after = since ? stampNanos(since) - 1n : -1n;
    const timestamps = query.get('timestamps') === 'true';
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    for (const line of this.logs) {
      if (line.nanos > after) res.write(timestamps ? `${line.ts} ${line.text}` : line.text);
    }
    if (query.get('follow') !== 'true' || state['terminated']) {
      res.end();
      return;
    }
    const follower = { res, after };
    this.logFollowers.add(follower);
    res.on('close', () => this.logFollowers.delete(follower));
  }

  /** @internal */
  endLogFollowers(): void {
    for (const follower of this.logFollowers) follower.res.end();
    this.logFollowers.clear();
  }

  /** @internal — a DELETE: SIGTERM now, SIGKILL after the grace period, then the object goes. */
  beginDelete(graceSeconds: number): void {
    if (this.deletedAt !== undefined) {
      if (graceSeconds < (this.deleteGrace ?? Infinity)) this.finishDelete(); // a shorter grace wins
      return;
    }
    this.deletedAt = Date.now();
    this.deleteGrace = graceSeconds;
    this.mutate((pod) => {
      pod['metadata'].deletionTimestamp = new Date(Date.now() + graceSeconds * 1000).toISOString();
      pod['metadata'].deletionGracePeriodSeconds = graceSeconds;
    });
    if (graceSeconds === 0) {
      this.finishDelete();
      return;
    }
    const state = this.taskState();
    if (state?.['running'] && this.exitCodeOnTerm !== undefined) this.exit(this.exitCodeOnTerm);
    const timer = setTimeout(() => this.finishDelete(), graceSeconds * 1000);
    timer.unref();
  }

  private finishDelete(): void {
    if (!this.exists) return;
    if (this.taskState()?.['running']) this.exit(137);
    const finishedAt = new Date().toISOString();
    this.mutate((pod) => {
      for (const c of (pod['status']?.containerStatuses ?? []) as PodJson[]) {
        if (c['state']?.running) c['state'] = { terminated: { exitCode: 0, reason: 'Completed', startedAt: c['state'].running.startedAt, finishedAt } };
      }
    });
    this.endLogFollowers();
    this.server.remove(this.name);
  }
}

export interface StandinOptions {
  namespace?: string;
  /** What happens to each created pod; runs in the background. */
  program?: (pod: SimulatedPod) => Promise<void> | void;
}

export class K8sApiStandin {
  readonly namespace: string;
  readonly pods = new Map<string, PodJson>();
  readonly simulated = new Map<string, SimulatedPod>();
  readonly requests: StandinRequestRecord[] = [];
  readonly deletes: { name: string; grace: number }[] = [];
  /** Every pod body as the client sent it. */
  readonly created: PodJson[] = [];
  readonly patches: { name: string; body: PodJson }[] = [];
  readonly execs: { name: string; container: string; command: string[] }[] = [];
  quotas: PodJson[] = [];
  program: ((pod: SimulatedPod) => Promise<void> | void) | undefined;
  /** Errors thrown by a program (a test asserts there are none). */
  readonly programErrors: unknown[] = [];
  private rv = 100;
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<WatchClient>();
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  private readonly deadlineTimer: NodeJS.Timeout;
  private root = '';
  url = '';

  private constructor(options: StandinOptions) {
    this.namespace = options.namespace ?? 'wharf-test';
    this.program = options.program;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(statusBody(500, 'InternalError', String(error)));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    // the kubelet's job for activeDeadlineSeconds, checked ten times a second
    this.deadlineTimer = setInterval(() => this.enforceDeadlines(), 100);
  }

  static async start(options: StandinOptions = {}): Promise<K8sApiStandin> {
    const standin = new K8sApiStandin(options);
    standin.root = await mkdtemp(path.join(os.tmpdir(), 'wharf-k8s-standin-'));
    await new Promise<void>((resolve) => standin.server.listen(0, '127.0.0.1', resolve));
    const { port } = standin.server.address() as AddressInfo;
    standin.url = `http://127.0.0.1:${port}`;
    return standin;
  }

  /** A kubeconfig for this stand-in (plain http needs insecure-skip-tls-verify in client 1.x). */
  kubeconfigYaml(): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: standin',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: standin-user',
      '  user:',
      '    token: standin-token',
      'contexts:',
      '- name: standin',
      '  context:',
      '    cluster: standin',
      '    user: standin-user',
      `    namespace: ${this.namespace}`,
      'current-context: standin',
      '',
    ].join('\n');
  }

  async writeKubeconfig(dir: string): Promise<string> {
    const file = path.join(dir, `kubeconfig-${randomUUID()}.yaml`);
    await writeFile(file, this.kubeconfigYaml());
    return file;
  }

  async stop(): Promise<void> {
    clearInterval(this.deadlineTimer);
    for (const watcher of this.watchers) watcher.res.end();
    for (const sim of this.simulated.values()) sim.endLogFollowers();
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.root, { recursive: true, force: true });
  }

  /** Ends every open watch, as a real server does now and then. */
  closeWatches(): void {
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }

  sim(name: string): SimulatedPod {
    const sim = this.simulated.get(name);
    if (!sim) throw new Error(`no simulated pod ${name}`);
    return sim;
  }

  /** Adds a pod as if an earlier worker had created it (for recover tests). */
  async adopt(pod: PodJson): Promise<SimulatedPod> {
    return this.createPod(pod, false);
  }

  // ---------------------------------------------------------------- store

  /** @internal */
  store(pod: PodJson, type: 'ADDED' | 'MODIFIED'): void {
    this.rv += 1;
    pod['metadata'].resourceVersion = String(this.rv);
    this.pods.set(pod['metadata'].name, pod);
    this.emit({ rv: this.rv, type, object: structuredClone(pod) });
  }

  /** @internal */
  remove(name: string): void {
    const pod = this.pods.get(name);
    if (!pod) return;
    this.pods.delete(name);
    this.rv += 1;
    const object = structuredClone(pod);
    object['metadata'].resourceVersion = String(this.rv);
    this.emit({ rv: this.rv, type: 'DELETED', object });
  }

  private emit(event: StoredEvent): void {
    this.history.push(event);
    for (const watcher of this.watchers) {
      if (matches(event.object, watcher.labels, watcher.fields)) {
        watcher.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
      }
    }
  }

  private async createPod(body: PodJson, runProgram: boolean): Promise<SimulatedPod> {
    const name = body['metadata'].name as string;
    const pod = structuredClone(body);
    pod['metadata'].namespace = this.namespace;
    pod['metadata'].uid = randomUUID();
    pod['metadata'].creationTimestamp = new Date().toISOString();
    pod['status'] ??= { phase: 'Pending' };
    const outputDir = path.join(this.root, name, 'output');
    await mkdir(outputDir, { recursive: true });
    const sim = new SimulatedPod(this, name, outputDir);
    this.simulated.set(name, sim);
    this.store(pod, 'ADDED');
    const program = this.program;
    if (runProgram && program) {
      setImmediate(() => {
        Promise.resolve()
          .then(() => program(sim))
          .catch((error: unknown) => {
            if (sim.exists) this.programErrors.push(error);
          });
      });
    }
    return sim;
  }

  private enforceDeadlines(): void {
    for (const [name, pod] of this.pods) {
      const deadline = pod['spec']?.activeDeadlineSeconds as number | undefined;
      const startTime = pod['status']?.startTime as string | undefined;
      if (deadline === undefined || startTime === undefined || pod['status']?.reason) continue;
      if (Date.now() - Date.parse(startTime) > deadline * 1000) {
        this.simulated.get(name)?.failPod('DeadlineExceeded', `Pod was active on the node longer than the specified deadline`);
      }
    }
  }

  // ---------------------------------------------------------------- http

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      query[key] = all.length === 1 ? (all[0] ?? '') : all;
    }
    this.requests.push({ method: req.method ?? '', path: url.pathname, query });
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const base = `/api/v1/namespaces/${this.namespace}`;
    if (!url.pathname.startsWith(`${base}/`)) {
      json(404, statusBody(404, 'NotFound', `the stand-in serves only namespace ${this.namespace}: ${url.pathname}`));
      return;
    }
    const rest = url.pathname.slice(base.length + 1).split('/');
    const [resource, name, sub] = rest;

    if (resource === 'resourcequotas' && req.method === 'GET' && name === undefined) {
      json(200, { kind: 'ResourceQuotaList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: this.quotas });
      return;
    }
    if (resource !== 'pods') {
      json(404, statusBody(404, 'NotFound', `the stand-in does not serve ${resource}`));
      return;
    }

    if (name === undefined) {
      const labels = parseSelector(url.searchParams.get('labelSelector') ?? undefined);
      const fields = parseSelector(url.searchParams.get('fieldSelector') ?? undefined);
      if (req.method === 'POST') {
        const body = JSON.parse(await this.readBody(req)) as PodJson;
        const podName = body['metadata']?.name as string | undefined;
        if (!podName) return json(422, statusBody(422, 'Invalid', 'metadata.name: Required value'));
        if (this.pods.has(podName)) return json(409, statusBody(409, 'AlreadyExists', `pods "${podName}" already exists`));
        this.created.push(structuredClone(body));
        await this.createPod(body, true);
        return json(201, this.pods.get(podName));
      }
      if (req.method !== 'GET') return json(405, statusBody(405, 'MethodNotAllowed', req.method ?? ''));
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        const since = Number(url.searchParams.get('resourceVersion') ?? 'NaN');
        if (Number.isFinite(since)) {
          for (const event of this.history) {
            if (event.rv > since && matches(event.object, labels, fields)) res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
          }
        } else {
          for (const pod of this.pods.values()) if (matches(pod, labels, fields)) res.write(`${JSON.stringify({ type: 'ADDED', object: pod })}\n`);
        }
        const watcher = { res, labels, fields };
        this.watchers.add(watcher);
        res.on('close', () => this.watchers.delete(watcher));
        return;
      }
      const items = [...this.pods.values()].filter((pod) => matches(pod, labels, fields));
      return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
    }

    const pod = this.pods.get(name);
    if (!pod) return json(404, statusBody(404, 'NotFound', `pods "${name}" not found`));
    const sim = this.sim(name);
    if (sub === 'log' && req.method === 'GET') {
      sim.serveLog(res, url.searchParams);
      return;
    }
    if (sub !== undefined) return json(404, statusBody(404, 'NotFound', `the stand-in does not serve pods/${sub} over plain HTTP`));
    if (req.method === 'GET') return json(200, pod);
    if (req.method === 'PATCH') {
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.includes('merge-patch+json')) return json(415, statusBody(415, 'UnsupportedMediaType', `the stand-in takes merge patches, not ${contentType}`));
      const body = JSON.parse(await this.readBody(req)) as PodJson;
      this.patches.push({ name, body });
      const next = structuredClone(pod);
      const deadline = body['spec']?.activeDeadlineSeconds as number | undefined;
      if (deadline !== undefined) {
        const current = next['spec'].activeDeadlineSeconds as number | undefined;
        if (current !== undefined && deadline > current) {
          return json(422, statusBody(422, 'Invalid', 'spec.activeDeadlineSeconds: Invalid value: must be less than or equal to previous value'));
        }
        next['spec'].activeDeadlineSeconds = deadline;
      }
      this.store(next, 'MODIFIED');
      return json(200, next);
    }
    if (req.method === 'DELETE') {
      const text = await this.readBody(req);
      const body = text ? (JSON.parse(text) as PodJson) : {};
      const graceText = url.searchParams.get('gracePeriodSeconds') ?? body['gracePeriodSeconds'];
      const grace = graceText === undefined || graceText === null ? 30 : Number(graceText);
      this.deletes.push({ name, grace });
      const before = structuredClone(pod);
      sim.beginDelete(grace);
      return json(200, this.pods.get(name) ?? before);
    }
    return json(405, statusBody(405, 'MethodNotAllowed', req.method ?? ''));
  }

  private upgrade(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.url);
    const match = new RegExp(`^/api/v1/namespaces/${this.namespace}/pods/([^/]+)/exec$`).exec(url.pathname);
    const sim = match?.[1] ? this.simulated.get(match[1]) : undefined;
    const container = url.searchParams.get('container') ?? '';
    const refuse = (code: number, message: string): void => {
      socket.end(`HTTP/1.1 ${code} Refused\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${statusBody(code, 'BadRequest', message)}`);
    };
    if (!sim || !sim.exists) return refuse(404, 'pod not found');
    if (container !== 'wharf-outputs' || !sim.sidecarRunning()) return refuse(400, `container ${container} is not running`);
    const command = url.searchParams.getAll('command');
    this.execs.push({ name: sim.name, container, command });
    this.wss.handleUpgrade(req, socket, head, (ws) => this.runExec(ws, sim, command));
  }

  private runExec(ws: WebSocket, sim: SimulatedPod, command: string[]): void {
    const send = (channel: number, data: Buffer): void => {
      ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    const expected = ['tar', 'cf', '-', '-C', '/output', '.'];
    if (JSON.stringify(command) !== JSON.stringify(expected)) {
      send(2, Buffer.from(`the stand-in runs only ${expected.join(' ')}\n`));
      send(STATUS_CHANNEL, Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: 'command not supported by the stand-in' })));
      ws.close();
      return;
    }
    // the real tar, on the folder that stands for the pod's /output
    const tar = spawn('tar', ['cf', '-', '-C', sim.outputDir, '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tar.stdout.on('data', (chunk: Buffer) => send(1, chunk));
    tar.stderr.on('data', (chunk: Buffer) => send(2, chunk));
    tar.on('close', (code) => {
      const status =
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: ${code}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
            };
      send(STATUS_CHANNEL, Buffer.from(JSON.stringify(status)));
      ws.close();
    });
  }
}
