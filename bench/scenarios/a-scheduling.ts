// Scenario a: scheduling throughput. N simulated workers (real gRPC, `sim` runtime) and M tasks
// submitted over REST in batches of up to 1,000. Anchor: Nomad's C1M placement rate.
// With `fairShare`, the same run goes through a queue with caps (none reached) and two users with
// fair-share weights 1 and 3 and per-user limits, batches alternating between them, so every
// placement pays for the queue and user cap checks and the DRF choice between users;
// runSchedulingComparison runs both on fresh masters and reports the variant's ratio.
import { ApiClient, type TaskBody } from '../../test/support/api-client.js';
import { startMasterProcess } from '../support/master-process.js';
import { SimCluster } from '../support/sim-workers.js';
import { percentile, round, sleep, type MetricRow, type ScenarioResult, infoRow } from '../support/types.js';

export interface SchedulingOptions {
  workers: number;
  tasks: number;
  /** tasks fetched back with GET /api/tasks/:id to check one attempt and status succeeded */
  verifySample?: number;
  /** through a capped queue, two users with weights 1 and 3 (see the top) */
  fairShare?: boolean;
}

/** Nomad C1M (2015): 1M containers placed at ≈ 3,750 placements/s with 5 servers. A constant. */
export const NOMAD_C1M_PLACEMENTS_PER_S = 3750;

export async function runSchedulingScenario(options: SchedulingOptions): Promise<ScenarioResult> {
  const master = await startMasterProcess();
  const cluster = new SimCluster({ grpcAddress: master.grpcAddress, joinToken: master.joinToken, caHash: master.caHash, workers: options.workers });
  try {
    await cluster.start();
    const readyDeadline = Date.now() + 120_000;
    for (;;) {
      const health = await fetch(`${master.httpUrl}/health`).then((r) => r.json() as Promise<{ workers: { ready: number } }>);
      if (health.workers.ready >= options.workers) break;
      if (Date.now() > readyDeadline) throw new Error(`only ${health.workers.ready} of ${options.workers} workers ready`);
      await sleep(100);
    }
    const stamp = Date.now();
    const user = await ApiClient.registered(master.httpUrl, `bench-${stamp}@example.com`);
    const users = [user];
    if (options.fairShare) {
      users.push(await ApiClient.registered(master.httpUrl, `bench-b-${stamp}@example.com`));
      const admin = master.admin;
      const expectOk = (response: { status: number; text: string }, what: string): void => {
        if (response.status >= 300) throw new Error(`${what} failed: ${response.status} ${response.text.slice(0, 300)}`);
      };
      expectOk(await admin.request('POST', '/api/queues', { name: 'bench', maxConcurrency: 1_000_000, maxCpu: 1_000_000, maxMemory: '1000Ti', maxGpus: 1000 }), 'queue');
      for (const [index, weight] of [1, 3].entries()) {
        const email = `bench-${index === 0 ? '' : 'b-'}${stamp}@example.com`;
        expectOk(await admin.request('PUT', `/api/queues/bench/users/${email}`, { weight, maxRunning: 1_000_000 }), 'user limit');
        expectOk(await admin.request('PUT', `/api/user-limits/${email}`, { maxCpu: 1_000_000 }), 'user limit');
      }
    }
    const createdAt = new Map<string, number>();
    const batches: unknown[][] = [];
    for (let i = 0; i < options.tasks; i += 1000) {
      const size = Math.min(1000, options.tasks - i);
      batches.push(
        Array.from({ length: size }, (_, j) => ({
          name: `sim-${i + j}`,
          image: 'sim',
          runtime: 'sim',
          command: ['true'],
          resources: { cpu: 0.01, memory: '6Mi' },
          ...(options.fairShare ? { queue: 'bench' } : {}),
        })),
      );
    }
    const cpuBefore = master.cpuSeconds();
    const t0 = Date.now();
    // two batches in flight: the master parses one while the next is on the wire
    let next = 0;
    const submitter = async (): Promise<void> => {
      while (next < batches.length) {
        const index = next++;
        const batch = batches[index]!;
        const response = await users[index % users.length]!.request<{ tasks: { id: string; createdAt: string }[] }>('POST', '/api/tasks/batch', { tasks: batch });
        if (response.status !== 201) throw new Error(`batch submit failed: ${response.status} ${response.text.slice(0, 300)}`);
        for (const task of response.body.tasks) createdAt.set(task.id, Date.parse(task.createdAt));
      }
    };
    await Promise.all([submitter(), submitter()]);
    const submittedAt = Date.now();
    await cluster.waitForAcks(options.tasks, 60_000 + options.tasks * 10);
    const cpuSeconds = master.cpuSeconds() - cpuBefore;

    const lastAssign = Math.max(...cluster.assigns.map((a) => a.assignedAt));
    const lastAck = Math.max(...cluster.acks.values());
    const scheduledPerS = options.tasks / ((lastAssign - t0) / 1000);
    const completedPerS = options.tasks / ((lastAck - t0) / 1000);
    const latencies: number[] = [];
    for (const assign of cluster.assigns) {
      const created = createdAt.get(assign.taskId);
      if (created !== undefined) latencies.push(assign.assignedAt - created);
    }
    const perTask = new Map<string, number>();
    for (const assign of cluster.assigns) perTask.set(assign.taskId, (perTask.get(assign.taskId) ?? 0) + 1);
    const assignedTwice = [...perTask.values()].filter((n) => n > 1).length;

    // read back a sample (all of them at small sizes): one attempt, succeeded
    const ids = [...createdAt.keys()];
    const sampleSize = Math.min(ids.length, options.verifySample ?? 200);
    const step = ids.length / Math.max(1, sampleSize);
    let sampleOk = 0;
    for (let k = 0; k < sampleSize; k += 1) {
      const id = ids[Math.floor(k * step)]!;
      const response = await master.admin.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
      const task = response.body.task;
      if (response.status === 200 && task.status === 'succeeded' && task.attempts.length === 1) sampleOk += 1;
    }

    const anchor = NOMAD_C1M_PLACEMENTS_PER_S;
    const variant = options.fairShare ? ' (queues+fair share)' : '';
    const rows: MetricRow[] = [
      {
        scenario: 'a',
        metric: `completed/s${variant}`,
        value: round(completedPerS, 0),
        unit: 'tasks/s',
        baseline: anchor,
        baselineLabel: 'Nomad C1M anchor (constant)',
        ratio: round(completedPerS / anchor),
        target: '>= 5000/s',
        met: completedPerS >= 5000,
      },
      {
        scenario: 'a',
        metric: `scheduled/s${variant}`,
        value: round(scheduledPerS, 0),
        unit: 'tasks/s',
        baseline: anchor,
        baselineLabel: 'Nomad C1M anchor (constant)',
        ratio: round(scheduledPerS / anchor),
        target: '',
        met: null,
      },
      infoRow('a', `submit->assigned p50${variant}`, round(percentile(latencies, 0.5), 0), 'ms'),
      infoRow('a', `submit->assigned p99${variant}`, round(percentile(latencies, 0.99), 0), 'ms'),
      infoRow('a', `master CPU during run${variant}`, round((cpuSeconds / ((lastAck - t0) / 1000)) * 100, 0), '% of 1 core'),
    ];
    return {
      scenario: 'a',
      title: `scheduling throughput (${options.workers} sim workers, ${options.tasks} tasks${variant})`,
      rows,
      checks: {
        tasks: options.tasks,
        submitted: createdAt.size,
        assignedTasks: perTask.size,
        assignedTwice,
        acknowledged: cluster.acks.size,
        sampleChecked: sampleSize,
        sampleOneAttemptSucceeded: sampleOk,
        streamsLost: cluster.streamsLost,
      },
      notes: [
        `submit of all batches took ${submittedAt - t0} ms; latency is task createdAt (master clock) to the assign arriving at the sim worker, over all tasks`,
      ],
    };
  } finally {
    await cluster.stop();
    await master.stop();
  }
}

/**
 * Scenario a twice, on fresh masters in the same run: plain, then with queues and fair share on
 * (a capped queue, two users with weights 1 and 3 and limits). The last row is the variant's
 * completed/s over the plain run's: the target is to lose no more than 10 %.
 */
export async function runSchedulingComparison(options: Omit<SchedulingOptions, 'fairShare'>): Promise<ScenarioResult> {
  const plain = await runSchedulingScenario(options);
  const fair = await runSchedulingScenario({ ...options, fairShare: true });
  const completed = (result: ScenarioResult) => result.rows.find((r) => r.metric.startsWith('completed/s'))!.value;
  const ratio = completed(fair) / completed(plain);
  return {
    scenario: 'a',
    title: `${plain.title}; again with queues and fair share`,
    rows: [
      ...plain.rows,
      ...fair.rows,
      {
        scenario: 'a',
        metric: 'completed/s with queues+fair share vs without',
        value: round(ratio, 3),
        unit: 'ratio',
        baseline: completed(plain),
        baselineLabel: 'the plain run above (same machine, same run)',
        ratio: round(ratio),
        target: '>= 0.9',
        met: ratio >= 0.9,
      },
    ],
    checks: { ...plain.checks, ...Object.fromEntries(Object.entries(fair.checks).map(([k, v]) => [`fairShare.${k}`, v])) },
    notes: [...plain.notes, ...fair.notes.map((note) => `queues+fair share: ${note}`)],
  };
}
