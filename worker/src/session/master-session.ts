// The worker's conversation with the master. Main loop, until stop():
//
//   1. Register (unary, over TLS with the worker's certificate: the worker has joined before
//      the session starts, see identity/) with our capacity and every attempt we still run —
//      running in this process after a reconnect, or recovered from the runtimes after a
//      restart. The answer carries the heartbeat interval and the attempts the master has
//      given to someone else meanwhile: those are stopped and their results dropped at once.
//      When the certificate is due for renewal, the Register carries a CSR and the answer the
//      renewed certificate (identity/certificate-renewal.ts); a timer ends the stream when the
//      renewal falls due, so a long-lived connection renews too.
//   2. Connect (bidi stream): a heartbeat at once and
//      then every interval; every result still in the outbox is sent again. Down come
//      assign (accept at once, run an AttemptRunner), cancel, resultAck (forget the result,
//      remove the attempt's folder) and drain.
//      A report the master could not store (its disk is full) comes back as a ReportNack: the
//      same result (from the outbox) or event is sent again on the same stream after the
//      master's retry_after_ms, backing off further while refusals go on, until it is taken. On
//      every new stream each attempt still running reports `started` again (the master takes it
//      once), so a start in flight when a stream broke is not lost either.
//   3. When the stream ends or fails (master restart, network), wait with exponential backoff
//      and full jitter, then go to 1. With several masters (--master a,b,c; master-candidates.ts)
//      a standby refuses Register and Connect naming the leader: the worker goes there at once;
//      a master it cannot reach sends it to the next one, and it waits only after all failed.
//      Results in the outbox go to whichever master leads and stay until one acknowledges them. Running attempts are not stopped because the connection
//      dropped; their results wait in the outbox.
//   4. Fencing (contact-fence.ts): every heartbeat the master acknowledges, and every Register
//      it answers, proves contact. When none has for --stop-after (default: the master's
//      heartbeat TTL), every running attempt is stopped (SIGTERM, --cancel-grace-seconds,
//      SIGKILL) and reported `stopped`, and assignments are refused until contact is back: by
//      then the master may have given them to another worker. The results and logs of those
//      attempts are delivered when the master can be reached again, even when it has given the
//      attempts away meanwhile (it acknowledges them without effect).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  ClientDuplexStream,
} from '@grpc/grpc-js';
import type {
  AttemptEvent,
  Fencing,
  MasterMessage__Output,
  ReportNack__Output,
  RegisterRequest,
  RegisterResponse__Output,
  Resources__Output,
  TaskSpec__Output,
  WorkerMessage,
} from '@wharf/proto';
import { formatDurationMs } from '@wharf/proto';
import type { RuntimeName, WorkerConfig } from '../config/worker-config.js';
import type { ResultOutbox, StoredResult } from '../outbox/result-outbox.js';
import type { ArtifactCache } from '../cache/artifact-cache.js';
import type { OutputUploader } from '../outputs/output-uploader.js';
import { removeTree } from '../outputs/remove-tree.js';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import type { EffectiveSettings, TaskRuntime } from '../runtime/task-runtime.js';
import type { UsageSampler } from '../telemetry/usage-sampler.js';
import type { CertificateRenewal } from '../identity/certificate-renewal.js';
import { tlsHint } from '../identity/enrolment.js';
import { AttemptRunner, type AttemptEventKind, type AttemptReporter, type AttemptSource } from './attempt-runner.js';
import { attemptPaths, isSafeAttemptId } from './attempt-paths.js';
import { assignmentOf } from './assignment.js';
import { ContactFence } from './contact-fence.js';
import { ContactRecorder, readContactRecord } from './contact-record.js';
import { describeGrpcError, grpcStatusOf, type GatewayConnection } from './gateway-connection.js';
import { leaderNamedBy } from './master-candidates.js';

export interface MasterSessionOptions {
  config: WorkerConfig;
  workerId: string;
  /** the worker's certificate: renewed through Register when due */
  certificate?: CertificateRenewal | undefined;
  hostname: string;
  version: string;
  capacity: Resources__Output;
  /** the GPU device ids it offers (RegisterRequest.gpu_ids); empty: a count only */
  gpuIds?: readonly string[] | undefined;
  gateway: GatewayConnection;
  outbox: ResultOutbox;
  sampler: UsageSampler;
  runtimes: ReadonlyMap<RuntimeName, TaskRuntime>;
  uploader: OutputUploader;
  attemptsDir: string;
  logger: Logger;
  /** DAG input cache; its digests go into heartbeats for placement affinity */
  cache?: ArtifactCache | undefined;
  /** where the last contact with the master is kept across restarts (<dataDir>/last-contact.json); absent = not kept */
  contactFile?: string | undefined;
}

const REGISTER_DEADLINE_MS = 10_000;
/** A Connect stream that lived this long counts as a success for the backoff. */
const HEALTHY_STREAM_MS = 5_000;
/** How many settled attempt ids to remember for recognising repeated assignments. */
const SETTLED_MEMORY = 10_000;
/** setTimeout's limit (about 24.8 days): a renewal further away is checked again then. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The bound this worker declares at every Register, joining included (the master refuses a
 * Register without one): stop-after 0 = the master's heartbeat TTL, which it answers with.
 */
export function declaredFencing(config: Pick<WorkerConfig, 'stopAfterMs' | 'cancelGraceSeconds'>): Fencing {
  return { stopAfterMs: config.stopAfterMs ?? 0, stopGraceMs: config.cancelGraceSeconds * 1000 };
}

export class MasterSession implements AttemptReporter {
  /** Resolves after the first successful Register; rejects if the session stops before. */
  readonly registered: Promise<void>;
  private resolveRegistered!: () => void;
  private rejectRegistered!: (error: Error) => void;
  private readonly runners = new Map<string, AttemptRunner>();
  private readonly settled = new Set<string>();
  /** Attempts whose result the master acknowledged (their folder goes once the runner is done). */
  private readonly acked = new Set<string>();
  private readonly backoffOptions: BackoffOptions;
  private readonly loopAbort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private stream: ClientDuplexStream<WorkerMessage, MasterMessage__Output> | undefined;
  private heartbeatIntervalMs: number;
  private draining = false;
  private renewalTimer: NodeJS.Timeout | undefined;
  /** the stream is being ended on purpose, for a certificate renewal */
  private renewing = false;
  private readonly logger: Logger;
  /** proof of contact with the master; trips after --stop-after without (see step 4 above) */
  private readonly fence: ContactFence;
  private readonly contactRecorder: ContactRecorder | undefined;
  /** whether the stop-after in force is the master's heartbeat TTL (no --stop-after) */
  private stopAfterIsMasterTtl = false;
  private warnedNoTtl = false;
  /**
   * The latest event of each kind of every attempt this worker runs (until its runner ends):
   * what is sent again when the master refuses one (ReportNack), `started` on every new stream.
   * `unsent`: written while no stream was open; sent when one opens.
   */
  private readonly events = new Map<string, Map<string, { event: AttemptEvent; unsent: boolean }>>();
  /** reports the master refused (ReportNack), by `<attemptId>/<kind>`: the resend timer and its backoff */
  private readonly refused = new Map<string, { backoff: Backoff; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly options: MasterSessionOptions) {
    this.logger = options.logger.child({ component: 'session' });
    this.contactRecorder = options.contactFile ? new ContactRecorder(options.contactFile, this.logger) : undefined;
    this.fence = new ContactFence({
      onLost: (silentMs, stopAfterMs) => this.stopForLostContact(silentMs, stopAfterMs),
      onRestored: () => this.logger.info('contact with the master is back; taking assignments again'),
      onContact: (sentAt) => this.recordContact(sentAt),
    });
    this.heartbeatIntervalMs = options.config.heartbeatIntervalMs;
    this.backoffOptions = { baseMs: options.config.reconnectBaseMs, maxMs: options.config.reconnectMaxMs };
    this.registered = new Promise<void>((resolve, reject) => {
      this.resolveRegistered = resolve;
      this.rejectRegistered = reject;
    });
    this.registered.catch(() => undefined); // callers who care await it themselves
  }

  /** Whether the master asked this worker to drain (take no new tasks). */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Attempt ids this worker runs now. */
  runningAttemptIds(): string[] {
    return [...this.runners.keys()];
  }

  /**
   * Picks up what the runtimes still hold after a restart: running tasks are followed again,
   * tasks that ended while the worker was away are reported, tasks whose result is already in
   * the outbox are only cleaned up.
   */
  async recover(): Promise<void> {
    await this.reapLeftovers();
    for (const runtime of this.options.runtimes.values()) {
      let found;
      try {
        found = await runtime.recover();
      } catch (error: unknown) {
        this.logger.error({ err: error, runtime: runtime.name }, 'cannot list what the runtime still runs');
        continue;
      }
      for (const recovered of found) {
        const { attemptId, taskId } = recovered.handle;
        const log = this.logger.child({ attemptId, taskId });
        if (this.runners.has(attemptId) || !isSafeAttemptId(attemptId)) continue;
        if (this.options.outbox.has(attemptId)) {
          log.info('recovered a finished task whose result is in the outbox; removing its container');
          await runtime.cleanup(recovered.handle).catch((error: unknown) => log.warn({ err: error }, 'cannot remove container'));
          continue;
        }
        log.info({ running: recovered.running }, 'recovered an attempt from before the restart');
        this.startRunner({ kind: 'recovered', recovered }, runtime);
      }
    }
    await this.resumeContact();
  }

  /**
   * After a restart: the last contact of the previous process still counts, so tasks recovered
   * while the master cannot be reached are stopped in time (at once, if that contact is older
   * than the stop-after).
   */
  private async resumeContact(): Promise<void> {
    if (!this.options.contactFile) return;
    const record = await readContactRecord(this.options.contactFile);
    if (!record) return;
    const agoMs = Math.max(0, Date.now() - record.lastContactAtMs);
    this.stopAfterIsMasterTtl = this.options.config.stopAfterMs === undefined;
    this.fence.contact(this.fence.now() - agoMs);
    this.fence.setStopAfter(this.options.config.stopAfterMs ?? record.stopAfterMs);
  }

  /** Keeps the newest contact on disk (throttled; see contact-record.ts). */
  private recordContact(sentAt: number): void {
    const stopAfterMs = this.fence.stopAfter;
    if (!this.contactRecorder || stopAfterMs === undefined) return;
    this.contactRecorder.note({ lastContactAtMs: Math.floor(Date.now() - (this.fence.now() - sentAt)), stopAfterMs });
  }

  /**
   * Runtimes that cannot re-attach (exec) kill what an earlier worker process left running; the
   * folders of those attempts go, unless their result still waits in the outbox.
   */
  private async reapLeftovers(): Promise<void> {
    for (const runtime of this.options.runtimes.values()) {
      if (!runtime.reapLeftovers) continue;
      let reaped: string[];
      try {
        reaped = await runtime.reapLeftovers();
      } catch (error: unknown) {
        this.logger.error({ err: error, runtime: runtime.name }, 'cannot stop what an earlier worker process left running');
        continue;
      }
      for (const attemptId of reaped) {
        if (this.runners.has(attemptId) || this.options.outbox.has(attemptId) || !isSafeAttemptId(attemptId)) continue;
        await removeTree(attemptPaths(this.options.attemptsDir, attemptId).root).catch((error: unknown) =>
          this.logger.warn({ err: error, attemptId }, 'cannot remove the folder of a leftover attempt'),
        );
      }
    }
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Ends the session. Running attempts are stopped (results dropped), or left running with leaveRunning. */
  async stop(options: { leaveRunning?: boolean } = {}): Promise<void> {
    this.loopAbort.abort();
    clearTimeout(this.renewalTimer);
    this.stream?.cancel();
    this.rejectRegistered(new Error('the worker stopped before it registered with the master'));
    await this.loopDone;
    this.fence.stop();
    for (const refusal of this.refused.values()) clearTimeout(refusal.timer);
    this.refused.clear();
    await this.contactRecorder?.flush();
    const runners = [...this.runners.values()];
    await Promise.all(
      runners.map((runner) => (options.leaveRunning ? runner.detach() : runner.abandon(this.options.config.cancelGraceSeconds))),
    );
  }

  // ------------------------------------------------------------------ AttemptReporter

  event(attemptId: string, kind: AttemptEventKind, message: string, atMs: number, effective?: EffectiveSettings): void {
    // kept until taken, so a refused (ReportNack) or unsent event goes again, `effective` with it
    const event: AttemptEvent = { attemptId, kind, message, atMs, ...(effective ? { effective } : {}) };
    let kinds = this.events.get(attemptId);
    if (!kinds) {
      kinds = new Map();
      this.events.set(attemptId, kinds);
    }
    kinds.set(kind, { event, unsent: !this.send({ event }) });
  }

  result(result: StoredResult): void {
    this.send({ result });
  }

  // ------------------------------------------------------------------ main loop

  private async loop(): Promise<void> {
    const signal = this.loopAbort.signal;
    const backoff = new Backoff(this.backoffOptions);
    const gateway = this.options.gateway;
    await gateway.resolveMasters();
    while (!signal.aborted) {
      let healthy = false;
      let refused = false;
      let failure: unknown;
      try {
        const sentAt = this.fence.now();
        const response = await this.register();
        if (signal.aborted) break;
        await this.applyRegistration(response, sentAt);
        this.resolveRegistered();
        gateway.reachedMaster();
        const conversation = await this.converse();
        healthy = conversation.healthy;
        // the master stepped down (it refuses the stream and names the new leader): go there
        if (leaderNamedBy(conversation.error) !== undefined) failure = conversation.error;
      } catch (error: unknown) {
        if (signal.aborted) break;
        this.logFailure(error);
        const code = grpcStatusOf(error);
        refused = code === grpc.status.PERMISSION_DENIED || code === grpc.status.UNAUTHENTICATED;
        failure = error;
      }
      if (healthy) backoff.reset();
      if (signal.aborted) break;
      // several masters: the leader a standby named, else the next one; wait only after all failed
      const next: { waitFirst: boolean; followed?: string; soon?: boolean } = failure === undefined ? { waitFirst: true } : await gateway.failedWith(failure);
      if (next.followed !== undefined) this.logger.info({ leader: next.followed }, 'going to the leader the master named');
      if (!next.waitFirst && !refused) continue;
      // refused credentials do not heal in a moment (an admin must act): ask again only rarely;
      // a standby answered: a leader is due soon (the lease TTL), so ask again at the base delay
      const delayMs = refused ? this.backoffOptions.maxMs : next.soon ? this.backoffOptions.baseMs : backoff.nextDelayMs();
      this.logger.debug({ delayMs, master: gateway.address }, 'reconnecting to the master');
      await sleep(delayMs, signal);
    }
  }

  private logFailure(error: unknown): void {
    const code = grpcStatusOf(error);
    const fields = { master: this.options.gateway.address, reason: describeGrpcError(error) };
    const tlsDir = `${this.options.config.dataDir}/tls`;
    const leader = leaderNamedBy(error);
    if (leader !== undefined) {
      this.logger.info({ ...fields, leader: leader || '(none yet)' }, 'this master is a standby: it takes no workers');
    } else if (code === grpc.status.UNAUTHENTICATED) {
      this.logger.error(
        fields,
        `the master did not accept this worker's certificate (expired, or from another cluster): remove ${tlsDir} and join again with a join token (retrying)`,
      );
    } else if (code === grpc.status.PERMISSION_DENIED) {
      this.logger.error(fields, `the master refused this worker (removed by an admin?): to join again, remove ${tlsDir} and start with a join token (retrying)`);
    } else {
      const hint = tlsHint(error);
      if (hint) this.logger.error({ ...fields, hint }, 'cannot verify the master (retrying)');
      else this.logger.warn(fields, 'cannot reach the master (retrying)');
    }
  }

  private async register(): Promise<RegisterResponse__Output> {
    const { config, workerId, hostname, version, capacity, gateway } = this.options;
    const request: RegisterRequest = {
      // the certificate says who we are; the join token was for joining only
      joinToken: '',
      workerId,
      csr: (await this.options.certificate?.csrIfDue()) ?? '',
      name: config.name,
      hostname,
      capacity,
      gpuIds: [...(this.options.gpuIds ?? [])],
      advertiseAddress: config.advertiseAddress ?? '',
      runtimes: config.runtimes,
      labels: config.labels,
      // attempts still running here, and those whose result waits in the outbox: the master
      // must not give either away before their result arrives
      running: [
        ...[...this.runners.values()].map((r) => ({ attemptId: r.attemptId, taskId: r.taskId })),
        ...this.options.outbox
          .list()
          .filter((result) => !this.runners.has(result.attemptId))
          .map((result) => ({ attemptId: result.attemptId, taskId: result.taskId })),
      ],
      version,
      fencing: declaredFencing(config),
    };
    return new Promise((resolve, reject) => {
      const call = gateway.client.Register(request, { deadline: Date.now() + REGISTER_DEADLINE_MS }, (error, response) => {
        this.loopAbort.signal.removeEventListener('abort', onAbort);
        if (error || !response) reject(error ?? new Error('empty Register response'));
        else resolve(response);
      });
      const onAbort = (): void => call.cancel();
      this.loopAbort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `sentAt`: when the Register left (monotonic); its answer proves contact since then. */
  private async applyRegistration(response: RegisterResponse__Output, sentAt: number): Promise<void> {
    if (response.workerId && response.workerId !== this.options.workerId) {
      this.logger.warn({ masterWorkerId: response.workerId }, 'the master answered with another worker id');
    }
    this.fence.contact(sentAt);
    const stopAfterMs = this.options.config.stopAfterMs ?? (response.heartbeatTtlMs > 0 ? response.heartbeatTtlMs : undefined);
    this.stopAfterIsMasterTtl = this.options.config.stopAfterMs === undefined;
    if (stopAfterMs === undefined && !this.warnedNoTtl) {
      this.warnedNoTtl = true;
      this.logger.warn('the master did not say its heartbeat TTL: this worker will not stop its tasks when it loses the master; set --stop-after');
    }
    this.fence.setStopAfter(stopAfterMs);
    await this.options.certificate?.accept(response);
    this.renewing = false;
    this.scheduleRenewal();
    this.options.gateway.markRegistered();
    if (response.heartbeatIntervalMs > 0) {
      this.heartbeatIntervalMs = response.heartbeatIntervalMs;
      this.options.sampler.setIntervalMs(response.heartbeatIntervalMs);
    }
    this.setDraining(response.draining);
    for (const attemptId of response.stopAttempts) this.dropAttempt(attemptId);
    this.logger.info(
      { running: this.runners.size, stopAttempts: response.stopAttempts.length, heartbeatMs: this.heartbeatIntervalMs, stopAfterMs },
      'registered with the master',
    );
  }

  /** When the certificate falls due, ends the stream: the next Register renews it. */
  private scheduleRenewal(): void {
    const certificate = this.options.certificate;
    if (!certificate) return;
    clearTimeout(this.renewalTimer);
    const wait = Math.max(0, certificate.dueAt - Date.now());
    this.renewalTimer = setTimeout(() => {
      if (Date.now() < certificate.dueAt) {
        this.scheduleRenewal();
        return;
      }
      this.logger.info('the certificate is due for renewal: registering again');
      this.renewing = true;
      this.stream?.cancel();
    }, Math.min(wait, MAX_TIMER_MS));
    this.renewalTimer.unref();
  }

  /** Runs one Connect stream to its end; returns whether it was healthy (for the backoff) and how it ended. */
  private async converse(): Promise<{ healthy: boolean; error: unknown }> {
    const call = this.options.gateway.client.Connect();
    this.stream = call;
    const openedAt = Date.now();
    let received = false;
    let heartbeat: NodeJS.Timeout | undefined;
    let error: unknown;
    const ended = new Promise<unknown>((resolve) => {
      call.on('data', (message: MasterMessage__Output) => {
        received = true;
        this.onMasterMessage(message);
      });
      call.on('error', (error: Error) => resolve(error));
      call.on('end', () => resolve(undefined));
      call.on('close', () => resolve(undefined));
    });
    try {
      this.sendHeartbeat();
      heartbeat = setInterval(() => this.sendHeartbeat(), this.heartbeatIntervalMs);
      for (const result of this.options.outbox.list()) this.send({ result });
      this.resendEvents();
      error = await ended;
      if (!this.loopAbort.signal.aborted && !this.renewing) {
        if (error !== undefined) this.logger.warn({ reason: describeGrpcError(error) }, 'connection to the master lost');
        else this.logger.warn('the master ended the connection');
      }
    } finally {
      clearInterval(heartbeat);
      if (this.stream === call) this.stream = undefined;
      call.end();
      call.cancel();
    }
    return { healthy: received || Date.now() - openedAt >= HEALTHY_STREAM_MS, error };
  }

  /** Writes to the open stream; answers whether there was one to write to. */
  private send(message: WorkerMessage): boolean {
    const stream = this.stream;
    if (!stream || stream.writableEnded || stream.destroyed) return false;
    try {
      stream.write(message);
      return true;
    } catch (error: unknown) {
      this.logger.debug({ err: error }, 'cannot write to the master stream');
      return false;
    }
  }

  /**
   * A new stream is open: every attempt still running here reports its start again (the master
   * takes a start once; one that was in flight when the last stream broke is not lost), and
   * events written while no stream was open go now.
   */
  private resendEvents(): void {
    for (const [attemptId, kinds] of this.events) {
      const finished = this.options.outbox.has(attemptId);
      for (const [kind, kept] of kinds) {
        if (finished) continue; // the result in the outbox carries the start time
        if (kind === 'started' || kept.unsent) kept.unsent = !this.send({ event: kept.event });
      }
    }
  }

  /**
   * The master could not store a report (its storage is full): send the same one again on this
   * stream after retry_after_ms, backing off further while refusals go on, until it is taken —
   * a result until its ResultAck, an event until it is no longer refused.
   */
  private onReportNack(nack: ReportNack__Output): void {
    const key = `${nack.attemptId}/${nack.kind}`;
    let refusal = this.refused.get(key);
    if (!refusal) {
      refusal = { backoff: new Backoff(this.backoffOptions), timer: undefined };
      this.refused.set(key, refusal);
      this.logger.warn({ attemptId: nack.attemptId, report: nack.kind, reason: nack.reason }, 'the master could not store a report; sending it again until it does');
    } else {
      this.logger.debug({ attemptId: nack.attemptId, report: nack.kind, reason: nack.reason }, 'the master refused a report again');
    }
    if (refusal.timer) return; // a resend is already due
    const delayMs = Math.max(nack.retryAfterMs, refusal.backoff.nextDelayMs());
    const current = refusal;
    current.timer = setTimeout(() => {
      current.timer = undefined;
      this.resendRefused(nack.attemptId, nack.kind);
    }, delayMs);
    current.timer.unref();
  }

  private resendRefused(attemptId: string, kind: string): void {
    if (kind === 'result') {
      const result = this.options.outbox.get(attemptId);
      if (result) this.send({ result });
      else this.forgetRefusals(attemptId, (k) => k === 'result');
      return;
    }
    const kept = this.events.get(attemptId)?.get(kind);
    if (kept) kept.unsent = !this.send({ event: kept.event });
    else this.forgetRefusals(attemptId, (k) => k === kind); // the attempt is over here
  }

  /** Drops the refusal state of an attempt's reports of the kinds `which` picks. */
  private forgetRefusals(attemptId: string, which: (kind: string) => boolean): void {
    for (const [key, refusal] of this.refused) {
      const slash = key.lastIndexOf('/');
      if (key.slice(0, slash) !== attemptId || !which(key.slice(slash + 1))) continue;
      clearTimeout(refusal.timer);
      this.refused.delete(key);
    }
  }

  private sendHeartbeat(): void {
    this.send({
      heartbeat: {
        usage: this.options.sampler.latest(),
        runningAttempts: this.runningAttemptIds(),
        sentAtMs: this.fence.heartbeatSent(),
        cachedArtifacts: this.options.cache?.digests(1000) ?? [],
      },
    });
  }

  private onMasterMessage(message: MasterMessage__Output): void {
    switch (message.payload) {
      case 'assign':
        if (message.assign) this.onAssign(message.assign);
        return;
      case 'cancel': {
        const cancel = message.cancel;
        if (!cancel) return;
        const runner = this.runners.get(cancel.attemptId);
        if (!runner) {
          this.logger.debug({ attemptId: cancel.attemptId }, 'cancel for an attempt that is not running here');
          return;
        }
        const grace = cancel.graceSeconds > 0 ? cancel.graceSeconds : this.options.config.cancelGraceSeconds;
        runner.cancel(grace, cancel.reason);
        return;
      }
      case 'resultAck':
        if (message.resultAck) this.onResultAck(message.resultAck.attemptId);
        return;
      case 'drain':
        this.setDraining(message.drain?.draining ?? false);
        return;
      case 'heartbeatAck':
        if (message.heartbeatAck) this.fence.heartbeatAcked(message.heartbeatAck.sentAtMs);
        return;
      case 'reportNack':
        if (message.reportNack) this.onReportNack(message.reportNack);
        return;
      default:
        this.logger.debug({ payload: message.payload }, 'ignoring an unknown message from the master');
    }
  }

  private onAssign(spec: TaskSpec__Output): void {
    const attemptId = spec.attemptId;
    if (this.runners.has(attemptId) || this.options.outbox.has(attemptId) || this.settled.has(attemptId)) {
      this.send({ accepted: { attemptId } });
      return;
    }
    this.send({ accepted: { attemptId } });
    if (this.fence.isLost) {
      // cut off: the master may hand this attempt to someone else at any moment. Not remembered,
      // so the same assignment sent again once contact is back runs.
      const now = Date.now();
      this.logger.warn({ attemptId, taskId: spec.taskId }, 'refusing an assignment: no contact with the master within --stop-after');
      this.send({
        result: { attemptId, taskId: spec.taskId, outcome: 'stopped', error: `not started: ${this.lostContactMessage()}`, startedAtMs: now, finishedAtMs: now },
      });
      return;
    }
    if (!isSafeAttemptId(attemptId)) {
      this.remember(attemptId);
      const now = Date.now();
      this.send({
        result: {
          attemptId,
          taskId: spec.taskId,
          outcome: 'error',
          error: `attempt id ${JSON.stringify(attemptId)} is not usable as a folder or container name`,
          startedAtMs: now,
          finishedAtMs: now,
        },
      });
      return;
    }
    const runtimeName = spec.runtime || this.options.config.runtimes[0] || 'docker';
    const runtime = [...this.options.runtimes.values()].find((r) => r.name === runtimeName);
    this.logger.info({ attemptId, taskId: spec.taskId, image: spec.image, runtime: runtimeName }, 'accepted an attempt');
    this.startRunner({ kind: 'assigned', assignment: assignmentOf(spec, runtimeName) }, runtime);
  }

  private startRunner(source: AttemptSource, runtime: TaskRuntime | undefined): void {
    const { config } = this.options;
    const attemptId = source.kind === 'assigned' ? source.assignment.spec.attemptId : source.recovered.handle.attemptId;
    this.events.delete(attemptId); // a recovered attempt reports its start anew
    const runner = new AttemptRunner({
      source,
      runtime,
      offeredRuntimes: config.runtimes,
      paths: attemptPaths(this.options.attemptsDir, attemptId),
      outbox: this.options.outbox,
      gateway: this.options.gateway,
      uploader: this.options.uploader,
      reporter: this,
      config,
      backoff: this.backoffOptions,
      logger: this.options.logger,
      cache: this.options.cache,
    });
    this.runners.set(attemptId, runner);
    void runner.run().finally(() => {
      if (this.runners.get(attemptId) === runner) this.runners.delete(attemptId);
      // its events are history now: the result (in the outbox) says how it ended
      this.events.delete(attemptId);
      this.forgetRefusals(attemptId, (kind) => kind !== 'result');
      this.remember(attemptId);
      if (this.acked.has(attemptId)) void this.forget(attemptId);
    });
  }

  private onResultAck(attemptId: string): void {
    this.remember(attemptId);
    if (this.refused.has(`${attemptId}/result`)) this.logger.info({ attemptId }, 'the master stored a result it had refused');
    this.forgetRefusals(attemptId, (kind) => kind === 'result');
    if (!this.options.outbox.has(attemptId)) return;
    this.logger.debug({ attemptId }, 'result acknowledged');
    remember(this.acked, attemptId);
    void this.forget(attemptId);
  }

  /**
   * The master gave this attempt to another worker: stop it, drop its result. An attempt this
   * worker already stopped because it was cut off (fencing) keeps its result and logs: they are
   * delivered, and the master acknowledges them without effect.
   */
  private dropAttempt(attemptId: string): void {
    this.remember(attemptId);
    const runner = this.runners.get(attemptId);
    if (runner?.stoppedForLostContact || (!runner && this.options.outbox.get(attemptId)?.outcome === 'stopped')) {
      this.logger.info({ attemptId }, 'the master gave away an attempt this worker stopped when it lost contact; delivering its result anyway');
      return;
    }
    if (runner) {
      this.logger.info({ attemptId }, 'the master gave this attempt to another worker; stopping it');
      void runner.abandon(0);
    }
    if (this.options.outbox.has(attemptId)) void this.forget(attemptId);
  }

  /** Deletes an attempt's result and its folder. */
  private async forget(attemptId: string): Promise<void> {
    try {
      await this.options.outbox.delete(attemptId);
      if (!this.runners.has(attemptId) && isSafeAttemptId(attemptId)) {
        // removeTree: a task's /output may be deeper than Node's rm can walk
        await removeTree(attemptPaths(this.options.attemptsDir, attemptId).root);
      }
    } catch (error: unknown) {
      this.logger.warn({ err: error, attemptId }, 'cannot remove an acknowledged attempt');
    }
  }

  /** No contact for longer than the stop-after: stop every running attempt (fencing). */
  private stopForLostContact(silentMs: number, stopAfterMs: number): void {
    const message = `stopped: ${this.lostContactMessage(silentMs, stopAfterMs)}`;
    const stopping = [...this.runners.values()].filter((runner) => runner.stopForLostContact(this.options.config.cancelGraceSeconds, message));
    this.logger.warn(
      { silentMs: Math.round(silentMs), stopAfterMs, stopping: stopping.map((runner) => runner.attemptId) },
      'no contact with the master within --stop-after: stopping every running attempt and taking no new ones until it answers again',
    );
  }

  /** "no contact with the master for 15.2s (--stop-after 15s, the master's heartbeat TTL)" */
  private lostContactMessage(silentMs?: number, stopAfterMs?: number): string {
    const bound = stopAfterMs ?? this.fence.stopAfter ?? 0;
    const last = this.fence.lastContactAt;
    const silent = silentMs ?? (last === undefined ? bound : this.fence.now() - last);
    const why = this.stopAfterIsMasterTtl ? `--stop-after ${formatDurationMs(bound)}, the master's heartbeat TTL` : `--stop-after ${formatDurationMs(bound)}`;
    return `no contact with the master for ${formatDurationMs(Math.round(silent / 100) * 100)} (${why})`;
  }

  private remember(attemptId: string): void {
    remember(this.settled, attemptId);
  }

  private setDraining(draining: boolean): void {
    if (draining !== this.draining) this.logger.info({ draining }, draining ? 'the master drains this worker' : 'draining lifted');
    this.draining = draining;
  }
}

/** Adds to a set that keeps only the newest SETTLED_MEMORY ids. */
function remember(ids: Set<string>, attemptId: string): void {
  ids.delete(attemptId);
  ids.add(attemptId);
  if (ids.size > SETTLED_MEMORY) {
    const oldest = ids.values().next().value;
    if (oldest !== undefined) ids.delete(oldest);
  }
}
