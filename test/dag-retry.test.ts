// Retry a DAG run from its failed tasks and re-run its file, end to end: a real master
// (SQLite, REST, gRPC on loopback) and a real worker running the `exec` runtime (host
// processes), driven through the REST API as a user would. Each task appends a line to a file
// of its own on the host each time it really runs, so "not run again" is what the host saw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

interface RunTask {
  name: string;
  status: string;
  taskId: string | null;
  reusedFrom: string | null;
  artifacts: { name: string; sha256: string; size: number }[];
}
interface Run {
  id: string;
  status: string;
  origin: { kind: string; dagId: string } | null;
  tasks: RunTask[];
}

const sh = (script: string) => ({ runtime: 'exec', command: ['sh', '-c', script] });

/** a → b → c: a and b pass a file down; c fails the first time it ever runs, then copies its input. */
function pipeline(marks: string) {
  const env = { MARKS: marks };
  return {
    dagName: 'retry-me',
    tasks: [
      { name: 'a', ...sh('echo ran >> "$MARKS/a" && echo alpha > "$WHARF_OUTPUT_DIR/one.txt"'), env, outputs: ['one.txt'] },
      {
        name: 'b',
        ...sh('echo ran >> "$MARKS/b" && { cat "$WHARF_INPUT_DIR/one.txt"; echo beta; } > "$WHARF_OUTPUT_DIR/two.txt"'),
        env,
        depends_on: ['a'],
        inputs: [{ fromTask: 'a', name: 'one.txt' }],
        outputs: ['two.txt'],
      },
      {
        name: 'c',
        ...sh('echo ran >> "$MARKS/c"; if [ -e "$MARKS/c-failed" ]; then cp "$WHARF_INPUT_DIR/two.txt" "$WHARF_OUTPUT_DIR/three.txt"; else touch "$MARKS/c-failed"; exit 4; fi'),
        env,
        depends_on: ['b'],
        inputs: [{ fromTask: 'b', name: 'two.txt' }],
        outputs: ['three.txt'],
      },
    ],
  };
}

const runsOf = (marks: string, task: string) => readFileSync(join(marks, task), 'utf8').trim().split('\n').length;
const byName = (run: Run) => Object.fromEntries(run.tasks.map((t) => [t.name, t]));

describe('DAG retry from failed tasks and re-run (exec runtime)', () => {
  it('retry reuses the succeeded tasks and their outputs, running only the failed one; rerun runs everything anew', async () => {
    const master = await startTestMaster({});
    cleanups.push(() => master.stop());
    const worker = await startTestWorker(master, { name: 'w1', runtimes: ['exec'] });
    cleanups.push(() => worker.stop());
    const client = await ApiClient.admin(master.httpUrl);
    const marks = tempDir('dag-retry');

    const get = async (id: string): Promise<Run> => {
      const response = await client.request<{ dag: Run }>('GET', `/api/dags/${id}`);
      expect(response.status, response.text).toBe(200);
      return response.body.dag;
    };
    const ended = (id: string) => waitFor(`DAG ${id} ended`, async () => {
      const run = await get(id);
      return run.status === 'running' ? undefined : run;
    }, 60_000, 150);

    const submitted = await client.request<{ dag: Run }>('POST', '/api/dags', pipeline(marks));
    expect(submitted.status, submitted.text).toBe(201);
    const first = await ended(submitted.body.dag.id);
    expect(first.status).toBe('failed');
    expect(Object.fromEntries(first.tasks.map((t) => [t.name, t.status]))).toEqual({ a: 'succeeded', b: 'succeeded', c: 'failed' });
    expect(first.origin).toBeNull();

    const retried = await client.request<{ dag: Run }>('POST', `/api/dags/${first.id}/retry`);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('location')).toBe(`/api/dags/${retried.body.dag.id}`);
    const answer = retried.body.dag;
    expect(answer.id).not.toBe(first.id);
    expect(answer.origin).toEqual({ kind: 'retry', dagId: first.id });
    // a and b are taken over as they were: same Wharf tasks, same artifacts; c is queued
    const old = byName(first);
    expect(byName(answer).a).toMatchObject({ status: 'succeeded', taskId: old.a!.taskId, reusedFrom: first.id, artifacts: old.a!.artifacts });
    expect(byName(answer).b).toMatchObject({ status: 'succeeded', taskId: old.b!.taskId, reusedFrom: first.id, artifacts: old.b!.artifacts });
    expect(byName(answer).c).toMatchObject({ status: 'queued', reusedFrom: null });
    expect(byName(answer).c!.taskId).not.toBe(old.c!.taskId);

    const second = await ended(answer.id);
    expect(second.status).toBe('succeeded');
    // the host saw a and b run once in all, c twice (the failure, then the retry)
    expect([runsOf(marks, 'a'), runsOf(marks, 'b'), runsOf(marks, 'c')]).toEqual([1, 1, 2]);
    // c read b's reused output
    const three = await client.bytes(`/api/files/${byName(second).c!.taskId}/download/three.txt`);
    expect(three.data.toString()).toBe('alpha\nbeta\n');
    // the failed run is left as it ended
    expect((await get(first.id)).status).toBe('failed');

    // nothing to retry in a succeeded run
    const again = await client.request('POST', `/api/dags/${second.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.text).toContain('rerun');

    // rerun: the same file, everything runs again
    const rerun = await client.request<{ dag: Run }>('POST', `/api/dags/${second.id}/rerun`);
    expect(rerun.status, rerun.text).toBe(201);
    expect(rerun.body.dag.origin).toEqual({ kind: 'rerun', dagId: second.id });
    expect(rerun.body.dag.tasks.map((t) => [t.name, t.status])).toEqual([['a', 'queued'], ['b', 'pending'], ['c', 'pending']]);
    // while it runs, neither retry nor rerun is allowed
    const busy = await client.request('POST', `/api/dags/${rerun.body.dag.id}/rerun`);
    expect(busy.status).toBe(409);
    const third = await ended(rerun.body.dag.id);
    expect(third.status).toBe('succeeded');
    expect([runsOf(marks, 'a'), runsOf(marks, 'b'), runsOf(marks, 'c')]).toEqual([2, 2, 3]);

    // an unknown run is a 404, a malformed id a 400
    expect((await client.request('POST', '/api/dags/no-such-run/retry')).status).toBe(404);
    expect((await client.request('POST', '/api/dags/bad%20id/rerun')).status).toBe(400);
  });

  it('answers a Helios-style file with warnings naming the ignored fields, and refuses a misspelt field with a did-you-mean', async () => {
    const master = await startTestMaster({});
    cleanups.push(() => master.stop());
    const client = await ApiClient.admin(master.httpUrl);
    const yaml = `apiVersion: helios.io/v1alpha1
artifactRepository: {s3: {bucket: b}}
dagName: helios
tasks:
  - name: one
    type: container
    serviceAccountName: runner
    image: wharf/busybox
    command: ["true"]
    env:
      - {name: A, value: "1"}
`;
    const post = (body: string) =>
      fetch(`${master.httpUrl}/api/dags`, { method: 'POST', headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/yaml' }, body });
    const response = await post(yaml);
    const accepted = (await response.json()) as { dag: Run; warnings: { path: string; message: string }[] };
    expect(response.status, JSON.stringify(accepted)).toBe(201);
    expect(accepted.warnings.map((w) => w.path)).toEqual(['apiVersion', 'artifactRepository', 'tasks[0].type', 'tasks[0].serviceAccountName']);
    const bad = await post(yaml.replace('image:', 'imgae:'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('tasks[0]: unknown field "imgae" (did you mean "image"?)');
  });
});
