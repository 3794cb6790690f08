// Scenario b: dispatch overhead on real Docker. Sequential `true` tasks through a real master
// and one real worker, against `docker run --rm` of the same image measured in the same run.
import { spawnSync } from 'node:child_process';
import type { TaskBody } from '../../test/support/api-client.js';
import { TEST_IMAGE, startDockerCluster, waitForTerminal } from '../support/docker-cluster.js';
import { median, percentile, round, type MetricRow, type ScenarioResult } from '../support/types.js';

export interface DispatchOptions {
  tasks: number;
}

export async function runDispatchScenario(options: DispatchOptions): Promise<ScenarioResult> {
  // baseline first: docker run --rm <image> true, sequentially, same count
  const dockerRun: number[] = [];
  for (let i = 0; i < options.tasks; i += 1) {
    const start = performance.now();
    const result = spawnSync('docker', ['run', '--rm', TEST_IMAGE, 'true'], { stdio: 'ignore', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`docker run failed: ${String(result.error ?? result.status)}`);
    dockerRun.push(performance.now() - start);
  }

  const cluster = await startDockerCluster();
  try {
    const toRunning: number[] = [];
    const toDone: number[] = [];
    let succeededOnce = 0;
    // one warm-up task (first container of the worker), not counted
    for (let i = -1; i < options.tasks; i += 1) {
      const submitAt = Date.now();
      const response = await cluster.user.request<{ task: { id: string } }>('POST', '/api/tasks', {
        image: TEST_IMAGE,
        command: ['true'],
        name: `dispatch-${i}`,
        resources: { cpu: 0.5, memory: '64Mi' },
      });
      if (response.status !== 201) throw new Error(`submit failed: ${response.status} ${response.text}`);
      const id = response.body.task.id;
      const done = await waitForTerminal(cluster, id, 60_000);
      if (i < 0) continue;
      const running = cluster.transitions.get(id)?.find((t) => t.status === 'running');
      if (running) toRunning.push(running.at - submitAt);
      toDone.push(done.at - submitAt);
      const detail = await cluster.user.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
      if (detail.body.task.status === 'succeeded' && detail.body.task.attempts.length === 1) succeededOnce += 1;
    }
    const dockerMedian = median(dockerRun);
    const ratio = median(toDone) / dockerMedian;
    const latency = (metric: string, values: number[], q: number, withBaseline: boolean): MetricRow => ({
      scenario: 'b',
      metric,
      value: round(percentile(values, q), 0),
      unit: 'ms',
      baseline: withBaseline ? round(percentile(dockerRun, q), 0) : null,
      baselineLabel: withBaseline ? 'docker run --rm true' : '',
      ratio: withBaseline ? round(percentile(values, q) / percentile(dockerRun, q)) : null,
      target: '',
      met: null,
    });
    return {
      scenario: 'b',
      title: `dispatch overhead (${options.tasks} sequential "true" tasks on Docker)`,
      rows: [
        {
          scenario: 'b',
          metric: 'submit->done median ratio',
          value: round(median(toDone), 0),
          unit: 'ms',
          baseline: round(dockerMedian, 0),
          baselineLabel: 'docker run --rm true (median)',
          ratio: round(ratio),
          target: '<= 1.10',
          met: ratio <= 1.1,
        },
        latency('submit->running p50', toRunning, 0.5, false),
        latency('submit->running p99', toRunning, 0.99, false),
        latency('submit->done p50', toDone, 0.5, true),
        latency('submit->done p99', toDone, 0.99, true),
      ],
      checks: { tasks: options.tasks, succeededWithOneAttempt: succeededOnce, measured: toDone.length },
      notes: ['one warm-up task before measuring; latencies are submit (client) to the status change inside the master'],
    };
  } finally {
    await cluster.stop();
  }
}
