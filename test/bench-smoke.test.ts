// Smoke run of every benchmark scenario at tiny sizes: correctness only (targets are for
// `make bench` to report, never asserted here).
import { describe, expect, it } from 'vitest';
import { runSchedulingScenario } from '../bench/scenarios/a-scheduling.js';
import { runDispatchScenario } from '../bench/scenarios/b-dispatch.js';
import { runLogScenario } from '../bench/scenarios/c-logs.js';
import { runUploadScenario } from '../bench/scenarios/d-upload.js';
import { runHeartbeatScenario } from '../bench/scenarios/e-heartbeats.js';
import { runStoreScenario } from '../bench/scenarios/f-store.js';
import { runMasterStartScenario, setupPending } from '../bench/scenarios/g-master-start.js';
import { runAuthScenario } from '../bench/scenarios/h-auth.js';
import { runFailoverScenario } from '../bench/scenarios/i-failover.js';

describe('bench smoke', () => {
  it('a with queues and fair share: every task of both users completed exactly once', async () => {
    const result = await runSchedulingScenario({ workers: 5, tasks: 2500, verifySample: 20, fairShare: true });
    expect(result.checks).toMatchObject({ submitted: 2500, assignedTasks: 2500, assignedTwice: 0, acknowledged: 2500, sampleOneAttemptSucceeded: 20, streamsLost: 0 });
    expect(result.rows.map((r) => r.metric)).toContain('completed/s (queues+fair share)');
  });

  it('a: every task completed exactly once', async () => {
    const result = await runSchedulingScenario({ workers: 5, tasks: 50, verifySample: 50 });
    expect(result.checks).toMatchObject({
      submitted: 50,
      assignedTasks: 50,
      assignedTwice: 0,
      acknowledged: 50,
      sampleChecked: 50,
      sampleOneAttemptSucceeded: 50,
      streamsLost: 0,
    });
  });

  it('b: sequential Docker tasks each succeed with one attempt', async () => {
    const result = await runDispatchScenario({ tasks: 2 });
    expect(result.checks).toMatchObject({ succeededWithOneAttempt: 2, measured: 2 });
  });

  it('c: no log line lost or reordered', async () => {
    const result = await runLogScenario({ lines: 2000 });
    expect(result.checks).toMatchObject({ received: 2000, lost: 0, reordered: 0, status: 'succeeded' });
    expect(result.checks.markers).toBeGreaterThan(0);
  });

  it('d: uploaded bytes keep their sha256', async () => {
    const result = await runUploadScenario({ bytes: 1024 * 1024 });
    expect(result.checks).toMatchObject({ downloadedBytes: 1024 * 1024, shaMatches: true, status: 'succeeded', attempts: 1 });
  });

  it('e: no worker wrongly lost', async () => {
    const result = await runHeartbeatScenario({ workers: 20, durationMs: 3000, interval: '500ms' });
    expect(result.checks).toMatchObject({ workers: 20, ready: 20, lost: 0, streamsLost: 0 });
    expect(result.checks.heartbeatsHandled).toBeGreaterThan(0);
  });

  it('f: store commits all apply', async () => {
    const result = await runStoreScenario({ ops: 200 });
    expect(result.checks).toMatchObject({ ops: 200, commitsFailed: 0, readBackOk: 200 });
  });

  it('g: a restarted runMaster.sh answers /health, and builds nothing when nothing changed', async (context) => {
    const pending = setupPending();
    if (pending) {
      // runMaster.sh would install or build in the middle of the run: make test runs setup first
      console.warn(`skipping bench smoke g: ${pending}`);
      context.skip();
    }
    const result = await runMasterStartScenario({ restarts: 1 });
    expect(result.checks).toMatchObject({ restarts: 1, healthy: 1, builtOnRestart: 0 });
    expect(result.rows[0]!.value).toBeGreaterThan(0);
  });

  it('h: authenticated requests answer 200, a logged-out token is refused, a flood never locks out the real login', async () => {
    const result = await runAuthScenario({ requests: 50, flood: 20 });
    expect(result.checks).toMatchObject({
      requestsPerKind: 50,
      requestsNot200: 0,
      loggedOutTokenRefused: true,
      oneRealLoginStatus: 200,
      oneFloodAllRefused: true,
      oneFloodAnswers: 20,
      manyRealLoginStatus: 200,
      manyFloodAllRefused: true,
      manyFloodAnswers: 20,
    });
  });

  it('i: kill -9 of the leader of three masters loses and duplicates no task', async () => {
    const result = await runFailoverScenario({ tasks: 20 });
    expect(result.checks).toMatchObject({ tasks: 20, lost: 0, duplicated: 0 });
    expect(result.rows[1]!.value).toBeGreaterThan(0);
  }, 300_000);
});

