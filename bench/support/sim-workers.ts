// Simulated workers: real gRPC clients speaking the real protocol over TLS, offering only the
// `sim` runtime. Each joins like a real worker (its own key, a CSR and the join token in a
// Register without a certificate) and then opens its Connect stream on a channel of its own
// that presents its certificate: workers cannot share channels, since a channel is one TLS
// identity. On `assign` they accept, report `started` and a succeeded result at once; they
// heartbeat at the interval the master returns.
import * as grpc from '@grpc/grpc-js';
import {
  CHANNEL_OPTIONS,
  loadWharfProto,
  type MasterMessage__Output,
  type RegisterResponse__Output,
  type WorkerGatewayClient,
  type WorkerMessage,
} from '@wharf/proto';
import { discoverPinnedCa } from '../../worker/src/identity/ca-discovery.js';
import { newKeyAndCsr } from '../../worker/src/identity/worker-credentials.js';

export interface SimClusterOptions {
  grpcAddress: string;
  joinToken: string;
  /** the master's CA hash (its join line's --ca-hash) */
  caHash: string;
  workers: number;
  /** per worker; default 64 cores, 64 GiB */
  capacity?: { cpu: number; memory: number };
  /** register this many at once (default 50) */
  registerConcurrency?: number;
  /** answer assignments (default true) */
  runTasks?: boolean;
}

export interface AssignRecord {
  taskId: string;
  attemptId: string;
  workerId: string;
  assignedAt: number;
}

interface SimWorker {
  id: string;
  client: WorkerGatewayClient;
  call?: grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output>;
  timer?: NodeJS.Timeout;
  firstBeat?: NodeJS.Timeout;
}

export class SimCluster {
  readonly assigns: AssignRecord[] = [];
  /** attemptId -> ms when the master acknowledged the result */
  readonly acks = new Map<string, number>();
  heartbeatsSent = 0;
  /** streams that ended or failed while the cluster was running (a worker wrongly dropped) */
  streamsLost = 0;
  heartbeatIntervalMs = 0;
  private readonly workers: SimWorker[] = [];
  private enrolment: WorkerGatewayClient | undefined;
  private caPem = '';
  private stopping = false;
  private onAck: (() => void) | undefined;

  constructor(private readonly options: SimClusterOptions) {}

  async start(): Promise<void> {
    this.caPem = await discoverPinnedCa(this.options.grpcAddress, this.options.caHash);
    this.enrolment = this.client();
    const concurrency = this.options.registerConcurrency ?? 50;
    const prefix = `sim-${process.pid}-${Date.now().toString(36)}`;
    for (let start = 0; start < this.options.workers; start += concurrency) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(this.options.workers, start + concurrency); i += 1) batch.push(this.startWorker(`${prefix}-${i}`));
      await Promise.all(batch);
    }
  }

  /** A channel of its own: without a key and certificate it can only join. */
  private client(identity?: { keyPem: string; certPem: string }): WorkerGatewayClient {
    const proto = loadWharfProto();
    const credentials = grpc.credentials.createSsl(
      Buffer.from(this.caPem),
      identity ? Buffer.from(identity.keyPem) : null,
      identity ? Buffer.from(identity.certPem) : null,
    );
    return new proto.wharf.v1.WorkerGateway(this.options.grpcAddress, credentials, {
      ...CHANNEL_OPTIONS,
      'grpc.use_local_subchannel_pool': 1,
      // the master's certificate names localhost; an IP as TLS server name draws a Node warning
      'grpc.ssl_target_name_override': 'localhost',
    });
  }

  /** Resolves when `count` results have been acknowledged, or rejects at the deadline. */
  waitForAcks(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.acks.size >= count) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.onAck = undefined;
        reject(new Error(`only ${this.acks.size} of ${count} results acknowledged within ${timeoutMs}ms`));
      }, timeoutMs);
      this.onAck = () => {
        if (this.acks.size >= count) {
          clearTimeout(timer);
          this.onAck = undefined;
          resolve();
        }
      };
    });
  }

  /** Joins: the master registers the worker and signs its key. */
  private register(name: string, csr: string): Promise<RegisterResponse__Output> {
    const capacity = this.options.capacity ?? { cpu: 64, memory: 64 * 1024 ** 3 };
    return new Promise((resolve, reject) => {
      this.enrolment!.Register(
        {
          joinToken: this.options.joinToken,
          workerId: '',
          csr,
          name,
          hostname: 'bench',
          capacity: { cpu: capacity.cpu, memory: capacity.memory, gpu: 0, disk: 0 },
          runtimes: ['sim'],
          labels: {},
          running: [],
          version: 'bench',
          // a simulated worker runs nothing it would have to stop; it declares the default bound
          fencing: { stopAfterMs: 0, stopGraceMs: 0 },
        },
        { deadline: Date.now() + 60_000 },
        (error, response) => (error || !response ? reject(error ?? new Error('no response')) : resolve(response)),
      );
    });
  }

  private async startWorker(name: string): Promise<void> {
    const { keyPem, csrPem } = await newKeyAndCsr();
    const registered = await this.register(name, csrPem);
    this.heartbeatIntervalMs = registered.heartbeatIntervalMs;
    const workerId = registered.workerId;
    const client = this.client({ keyPem, certPem: registered.certificate });
    const call = client.Connect();
    const worker: SimWorker = { id: workerId, client, call };
    this.workers.push(worker);
    const runTasks = this.options.runTasks ?? true;
    call.on('data', (message: MasterMessage__Output) => {
      if (message.payload === 'assign' && message.assign) {
        const spec = message.assign;
        const now = Date.now();
        this.assigns.push({ taskId: spec.taskId, attemptId: spec.attemptId, workerId, assignedAt: now });
        if (!runTasks) return;
        call.write({ accepted: { attemptId: spec.attemptId } });
        call.write({ event: { attemptId: spec.attemptId, kind: 'started', message: '', atMs: now } });
        call.write({
          result: {
            attemptId: spec.attemptId,
            taskId: spec.taskId,
            outcome: 'succeeded',
            exitCode: 0,
            hasExitCode: true,
            startedAtMs: now,
            finishedAtMs: Date.now(),
            error: '',
            files: [],
            logChunks: 0,
          },
        });
      } else if (message.payload === 'resultAck' && message.resultAck) {
        this.acks.set(message.resultAck.attemptId, Date.now());
        this.onAck?.();
      }
    });
    const lost = (): void => {
      if (!this.stopping) this.streamsLost += 1;
    };
    call.on('end', lost);
    call.on('error', lost);
    // stagger the first beat across the interval so beats do not arrive in one burst
    const interval = Math.max(50, registered.heartbeatIntervalMs);
    const beat = (): void => {
      if (this.stopping) return;
      this.heartbeatsSent += 1;
      call.write({ heartbeat: { usage: { cpuPercent: 1, memoryPercent: 1, diskPercent: 1, gpuPercent: 0, hasGpu: false }, runningAttempts: [], sentAtMs: Date.now() } });
    };
    worker.firstBeat = setTimeout(() => {
      beat();
      worker.timer = setInterval(beat, interval);
    }, Math.floor(Math.random() * interval));
  }

  /** Ends every stream and closes every channel. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const worker of this.workers) {
      if (worker.firstBeat) clearTimeout(worker.firstBeat);
      if (worker.timer) clearInterval(worker.timer);
      worker.call?.end();
      worker.call?.cancel();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const worker of this.workers) worker.client.close();
    this.enrolment?.close();
  }
}
