import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_DAG } from '../api/dag-file.ts';
import type { DagDetails, DagRunMetrics, DagSummary, DagTaskDetails } from '../api/types.ts';
import { FakeWebSocket, USER, type FakeRoute } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const me = { path: '/api/auth/me', body: { user: USER } };

const task = (name: string, patch: Partial<DagTaskDetails> = {}): DagTaskDetails => ({
  name,
  status: 'pending',
  taskId: null,
  reason: null,
  dependsOn: [],
  outputs: [],
  inputs: [],
  attempts: [],
  ...patch,
});

const running: DagDetails = {
  id: 'd1',
  name: 'train-pipeline',
  userId: 'u1',
  status: 'running',
  useCache: true,
  cancelRequested: false,
  createdAt: '2025-01-01T10:00:00.000Z',
  finishedAt: null,
  tasks: [
    task('generate-data', { status: 'succeeded', taskId: 't-gen', workerId: 'worker-one', outputs: ['data.txt'], attempts: [{ id: 'a1', number: 1, workerId: 'worker-one', status: 'succeeded', startedAt: 1, finishedAt: 2 }] }),
    task('train-model', {
      status: 'running',
      taskId: 't-train',
      workerId: 'worker-one',
      dependsOn: ['generate-data'],
      inputs: [{ name: 'data.txt', fromTask: 'generate-data', sha256: 'ab'.repeat(32), size: 588895, cache: 'hit' }],
      attempts: [{ id: 'a2', number: 1, workerId: 'worker-one', status: 'running', startedAt: 3 }],
    }),
    task('report', { dependsOn: ['train-model'], inputs: [{ name: 'weights.txt', fromTask: 'train-model', cache: null }] }),
  ],
};

const metric = (dagId: string, patch: Partial<DagRunMetrics> = {}): DagRunMetrics => ({
  dagId,
  dagName: 'train-pipeline',
  status: 'succeeded',
  startTime: '2025-01-01T10:00:00.000Z',
  endTime: '2025-01-01T10:00:10.000Z',
  durationMs: 10_000,
  cacheEnabled: true,
  cacheHit: 'Miss',
  taskCount: 2,
  taskSucceeded: 2,
  taskFailed: 0,
  taskUpstreamFailed: 0,
  cacheHitTasks: 0,
  cacheMissTasks: 1,
  bytesFromCache: 0,
  bytesDownloaded: 588895,
  nodes: ['worker-one'],
  ...patch,
});

const metricsRoute = (runs: DagRunMetrics[]): FakeRoute => ({ path: '/api/dags/train-pipeline/metrics', body: { runs } });

async function eventsSocket(): Promise<FakeWebSocket> {
  return waitFor(() => {
    const socket = FakeWebSocket.find('/ws/events');
    if (!socket) throw new Error('no events socket');
    return socket;
  });
}

const node = (name: string) => document.querySelector(`.dag-node[data-task="${name}"]`) as HTMLElement;

describe('the DAG editor', () => {
  it('starts with the example on the test image, every control labelled, the cache on', async () => {
    renderApp('/dags/new', [me]);
    const editor = (await screen.findByLabelText('DAG file (YAML or JSON)')) as HTMLTextAreaElement;
    expect(editor.value).toBe(EXAMPLE_DAG);
    expect(editor.value).toContain('image: wharf/busybox:latest');
    expect((screen.getByLabelText('Use cache') as HTMLInputElement).checked).toBe(true);
    for (const control of document.querySelectorAll('input, select, textarea')) {
      const labelled = control.getAttribute('aria-label') || (control.id && document.querySelector(`label[for="${control.id}"]`)) || control.closest('label');
      expect(labelled, control.outerHTML).toBeTruthy();
    }
    // line numbers for every line of the file
    expect(document.querySelectorAll('.code-line-no')).toHaveLength(EXAMPLE_DAG.split('\n').length);
  });

  it('turning the cache off rewrites useCache in the file, and the YAML text is what is sent', async () => {
    const app = renderApp('/dags/new', [
      me,
      { method: 'POST', path: '/api/dags', status: 201, body: { dag: { ...running, id: 'd-new' } } },
      { path: '/api/dags/d-new', body: { dag: { ...running, id: 'd-new' } } },
      metricsRoute([]),
    ]);
    const editor = (await screen.findByLabelText('DAG file (YAML or JSON)')) as HTMLTextAreaElement;
    fireEvent.click(screen.getByLabelText('Use cache'));
    expect(editor.value).toBe(EXAMPLE_DAG.replace('useCache: true', 'useCache: false'));
    expect((screen.getByLabelText('Use cache') as HTMLInputElement).checked).toBe(false);
    // and the switch follows the file when the line is edited by hand
    fireEvent.change(editor, { target: { value: editor.value.replace('useCache: false', 'useCache: true') } });
    expect((screen.getByLabelText('Use cache') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByLabelText('Use cache'));

    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    await waitFor(() => expect(app.path()).toBe('/dags/d-new'));
    const post = app.calls.find((c) => c.method === 'POST' && c.path === '/api/dags');
    expect(post?.headers['content-type']).toBe('application/yaml');
    expect(post?.body).toBe(EXAMPLE_DAG.replace('useCache: true', 'useCache: false'));
  });

  it('adds useCache: false to a file that has no such line', async () => {
    renderApp('/dags/new', [me]);
    const editor = (await screen.findByLabelText('DAG file (YAML or JSON)')) as HTMLTextAreaElement;
    fireEvent.change(editor, { target: { value: 'dagName: x\ntasks:\n  - name: a\n    image: wharf/busybox:latest\n' } });
    expect((screen.getByLabelText('Use cache') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByLabelText('Use cache'));
    expect(editor.value).toBe('dagName: x\nuseCache: false\ntasks:\n  - name: a\n    image: wharf/busybox:latest\n');
  });

  it('shows the API’s refusal under the editor and marks the lines of the cycle', async () => {
    const cyclic = 'dagName: loop\ntasks:\n  - name: a\n    image: wharf/busybox:latest\n    depends_on: [b]\n  - name: b\n    image: wharf/busybox:latest\n    depends_on: [a]\n';
    const app = renderApp('/dags/new', [
      me,
      { method: 'POST', path: '/api/dags', status: 400, body: { error: { code: 'validation_failed', message: 'cycle: a -> b -> a (each arrow points at a dependency)' } } },
    ]);
    const editor = (await screen.findByLabelText('DAG file (YAML or JSON)')) as HTMLTextAreaElement;
    fireEvent.change(editor, { target: { value: cyclic } });
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    const error = await screen.findByRole('alert');
    expect(error.textContent).toContain('cycle: a -> b -> a (each arrow points at a dependency)');
    expect(within(error).getAllByRole('button').map((b) => b.textContent)).toEqual(['line 3', 'line 6']);
    expect([...document.querySelectorAll('.code-line-no.code-marked')].map((n) => n.textContent)).toEqual(['3', '6']);
    expect(editor.getAttribute('aria-invalid')).toBe('true');
    expect(editor.getAttribute('aria-describedby')).toContain(error.id);
    expect(app.path()).toBe('/dags/new');
  });

  it('points a task field’s refusal at that field’s line', async () => {
    renderApp('/dags/new', [
      me,
      { method: 'POST', path: '/api/dags', status: 400, body: { error: { code: 'validation_failed', message: 'tasks[1].depends_on: unknown task "trian" (did you mean "train"?)' } } },
    ]);
    await screen.findByLabelText('DAG file (YAML or JSON)');
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    const error = await screen.findByRole('alert');
    // the example's second task declares depends_on on line 11
    expect(within(error).getByRole('button').textContent).toBe('line 11');
  });
});

describe('a DAG run', () => {
  it('draws the tasks in columns by depth with status, worker, cache per input and a link to each task', async () => {
    renderApp('/dags/d1', [me, { path: '/api/dags/d1', body: { dag: running } }, metricsRoute([])]);
    await screen.findByRole('heading', { level: 1, name: /train-pipeline/ });
    const [gen, train, report] = [node('generate-data'), node('train-model'), node('report')];
    expect(Number.parseFloat(gen.style.left)).toBeLessThan(Number.parseFloat(train.style.left));
    expect(Number.parseFloat(train.style.left)).toBeLessThan(Number.parseFloat(report.style.left));
    expect(gen.dataset.status).toBe('succeeded');
    expect(within(train).getByText('running')).toBeTruthy();
    expect(within(train).getByRole('link', { name: 'worker-o' }).getAttribute('href')).toBe('/workers/worker-one');
    expect(train.querySelector('[data-input="data.txt"] .cache')?.textContent).toBe('hit');
    expect(report.querySelector('[data-input="weights.txt"] .cache')?.textContent).toBe('–');
    expect(within(report).getByText('not placed yet')).toBeTruthy();
    expect(within(train).getByRole('link', { name: 'train-model' }).getAttribute('href')).toBe('/tasks/t-train');
    expect([...document.querySelectorAll('.dag-edge')].map((e) => e.getAttribute('data-edge'))).toEqual(['generate-data->train-model', 'train-model->report']);
    expect(screen.getByTestId('dag-tasks-done').textContent).toBe('1/3');
  });

  it('refetches the run when one of its tasks changes, and ignores other tasks', async () => {
    const route = { path: '/api/dags/d1', body: { dag: running } };
    const app = renderApp('/dags/d1', [me, route, metricsRoute([])]);
    await screen.findByRole('heading', { level: 1, name: /train-pipeline/ });
    const socket = await eventsSocket();
    act(() => socket.open());
    await waitFor(() => expect(app.calls.filter((c) => c.path === '/api/dags/d1').length).toBe(2));
    const fetches = () => app.calls.filter((c) => c.path === '/api/dags/d1').length;

    act(() => socket.send({ type: 'task', task: { id: 'other', dagId: 'd2', status: 'running' } }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fetches()).toBe(2);

    route.body = { dag: { ...running, tasks: running.tasks.map((t) => (t.name === 'train-model' ? { ...t, status: 'succeeded' as const } : t)) } };
    act(() => {
      socket.send({ type: 'task', task: { id: 't-train', dagId: 'd1', status: 'succeeded' } });
      socket.send({ type: 'task', task: { id: 't-report', dagId: 'd1', status: 'queued' } });
    });
    await waitFor(() => expect(node('train-model').dataset.status).toBe('succeeded'));
    // a burst of events is one refetch
    expect(fetches()).toBe(3);
  });

  it('cancels while running, and offers no Cancel once the run ended', async () => {
    const route = { path: '/api/dags/d1', body: { dag: running } };
    const app = renderApp('/dags/d1', [
      me,
      route,
      metricsRoute([]),
      { method: 'DELETE', path: '/api/dags/d1', status: 202, body: { dag: { ...running, status: 'running', cancelRequested: true } satisfies Omit<DagSummary, 'tasks'> & { tasks: unknown } } },
    ]);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel run' }));
    const dialog = await screen.findByRole('alertdialog', { name: /^Cancel the run/ });
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(false);
    // what the master answers once the cancel was asked for
    route.body = { dag: { ...running, cancelRequested: true } };
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel run' }));
    await waitFor(() => expect(app.calls.some((c) => c.method === 'DELETE' && c.path === '/api/dags/d1')).toBe(true));
    expect(await screen.findByRole('button', { name: 'Cancelling…' })).toBeTruthy();
    cleanup();

    renderApp('/dags/d1', [me, { path: '/api/dags/d1', body: { dag: { ...running, status: 'cancelled', finishedAt: '2025-01-01T10:00:05.000Z', tasks: running.tasks.map((t) => ({ ...t, status: t.status === 'succeeded' ? t.status : ('cancelled' as const), reason: t.status === 'succeeded' ? null : 'cancelled by ada@example.com' })) } } }, metricsRoute([])]);
    await screen.findByRole('heading', { level: 1, name: /train-pipeline/ });
    expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull();
    expect(document.querySelectorAll('.dag-reasons li')).toHaveLength(2);
    expect(screen.getByText('5.0 s')).toBeTruthy();
  });

  it('shows a task\'s log when its box is clicked, and how long each task ran', async () => {
    const timed: DagDetails = {
      ...running,
      tasks: running.tasks.map((t) =>
        t.name === 'generate-data'
          ? { ...t, attempts: [{ id: 'a1', number: 1, workerId: 'worker-one', status: 'succeeded', startedAt: '2025-01-01T10:00:00.000Z', finishedAt: '2025-01-01T10:01:05.000Z' }] }
          : t,
      ),
    };
    const app = renderApp('/dags/d1', [me, { path: '/api/dags/d1', body: { dag: timed } }, metricsRoute([])]);
    await screen.findByRole('heading', { level: 1, name: /train-pipeline/ });
    expect(within(node('generate-data')).getByTestId('dag-duration').textContent).toBe('1 min 5 s');
    // a task not started yet has no duration and no log
    expect(within(node('report')).queryByTestId('dag-duration')).toBeNull();
    expect(within(node('report')).queryByRole('button', { name: 'Log of report' })).toBeNull();

    fireEvent.click(node('train-model'));
    await waitFor(() => expect(app.path()).toBe('/dags/d1?task=train-model'));
    const panel = await screen.findByTestId('dag-task-log');
    expect(within(panel).getByRole('link', { name: 'open the task' }).getAttribute('href')).toBe('/tasks/t-train');
    const socket = await waitFor(() => {
      const found = FakeWebSocket.find('/ws/tasks/t-train/logs');
      if (!found) throw new Error('no log socket');
      return found;
    });
    act(() => {
      socket.open();
      socket.send({ type: 'log', attemptId: 'a2', attempt: 1, stream: 'stdout', data: 'epoch 1 loss 0.3\n' });
    });
    await waitFor(() => expect(within(panel).getByText('epoch 1 loss 0.3')).toBeTruthy());
    expect(node('train-model').className).toContain('dag-node-selected');

    // the Log button (keyboard users) selects another task; the box's own link still navigates
    fireEvent.click(within(node('generate-data')).getByRole('button', { name: 'Log of generate-data' }));
    await waitFor(() => expect(app.path()).toBe('/dags/d1?task=generate-data'));
    await waitFor(() => expect(FakeWebSocket.find('/ws/tasks/t-gen/logs')).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByTestId('dag-task-log')).toBeNull());
  });

  it('retries a failed run from its failed tasks and re-runs it, going to the new run; a retry links back and marks reused tasks', async () => {
    const failed: DagDetails = {
      ...running,
      status: 'failed',
      finishedAt: '2025-01-01T10:00:05.000Z',
      tasks: running.tasks.map((t) => (t.name === 'generate-data' ? t : { ...t, status: t.name === 'train-model' ? ('failed' as const) : ('upstream_failed' as const), reason: 'exit code 1' })),
    };
    const retry: DagDetails = {
      ...running,
      id: 'd2',
      origin: { kind: 'retry', dagId: 'd1' },
      tasks: running.tasks.map((t) => (t.name === 'generate-data' ? { ...t, reusedFrom: 'd1' } : t)),
    };
    const app = renderApp('/dags/d1', [
      me,
      { path: '/api/dags/d1', body: { dag: failed } },
      { path: '/api/dags/d2', body: { dag: retry } },
      { method: 'POST', path: '/api/dags/d1/retry', status: 201, body: { dag: { ...retry, tasks: [] } } },
      { method: 'POST', path: '/api/dags/d1/rerun', status: 201, body: { dag: { ...running, id: 'd3', tasks: [] } } },
      { path: '/api/dags/d3', body: { dag: { ...running, id: 'd3', origin: { kind: 'rerun', dagId: 'd1' } } } },
      metricsRoute([]),
    ]);
    await screen.findByRole('heading', { level: 1, name: /train-pipeline/ });
    fireEvent.click(screen.getByRole('button', { name: 'Retry failed tasks' }));
    await waitFor(() => expect(app.path()).toBe('/dags/d2'));
    expect(app.calls.some((c) => c.method === 'POST' && c.path === '/api/dags/d1/retry')).toBe(true);
    const origin = await screen.findByTestId('dag-origin');
    expect(within(origin).getByRole('link').getAttribute('href')).toBe('/dags/d1');
    expect(screen.getByText('Retry of')).toBeTruthy();
    expect(within(node('generate-data')).getByTestId('dag-reused').textContent).toBe('reused from run d1');
    // a running run offers neither
    expect(screen.queryByRole('button', { name: 'Retry failed tasks' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Re-run' })).toBeNull();
    cleanup();

    const again = renderApp('/dags/d1', [me, { path: '/api/dags/d1', body: { dag: failed } }, { method: 'POST', path: '/api/dags/d1/rerun', status: 201, body: { dag: { ...running, id: 'd3', tasks: [] } } }, { path: '/api/dags/d3', body: { dag: { ...running, id: 'd3', origin: { kind: 'rerun', dagId: 'd1' } } } }, metricsRoute([])]);
    fireEvent.click(await screen.findByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(again.path()).toBe('/dags/d3'));
    expect(await screen.findByText('Re-run of')).toBeTruthy();
  });

  it('after a submission, shows the fields the master ignored', async () => {
    const app = renderApp('/dags/new', [
      me,
      { method: 'POST', path: '/api/dags', status: 201, body: { dag: { ...running, id: 'd-new' }, warnings: [{ path: 'apiVersion', message: 'ignored: Wharf has no use for "apiVersion" (…)' }] } },
      { path: '/api/dags/d-new', body: { dag: { ...running, id: 'd-new' } } },
      metricsRoute([]),
    ]);
    await screen.findByLabelText('DAG file (YAML or JSON)');
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    await waitFor(() => expect(app.path()).toBe('/dags/d-new'));
    const warnings = await screen.findByTestId('dag-warnings');
    expect(warnings.textContent).toContain('apiVersion: ignored: Wharf has no use for "apiVersion"');
  });

  it('says when the run does not exist', async () => {
    renderApp('/dags/nope', [me, { path: '/api/dags/nope', status: 404, body: { error: { code: 'not_found', message: 'DAG run nope not found' } } }]);
    expect(await screen.findByText('No DAG run with id nope (or it belongs to someone else).')).toBeTruthy();
  });

  it('compares cached and uncached runs above the table of runs', async () => {
    const runs = [
      metric('d3', { cacheHit: 'Hit', durationMs: 2_000, bytesFromCache: 588895, bytesDownloaded: 0, cacheHitTasks: 1, cacheMissTasks: 0 }),
      metric('d2', { cacheHit: 'Partial', durationMs: 4_000 }),
      metric('d1', { cacheHit: 'Miss', durationMs: 9_000 }),
      metric('d0', { cacheHit: 'N/A', cacheEnabled: false, durationMs: 11_000 }),
    ];
    renderApp('/dags/d1', [me, { path: '/api/dags/d1', body: { dag: running } }, metricsRoute(runs)]);
    const counts = await screen.findByTestId('dag-metrics-counts');
    expect(within(counts).getByTestId('dag-runs-count').textContent).toBe('4');
    expect(screen.getByTestId('dag-avg-cached').textContent).toBe('avg 3.0 s');
    expect(screen.getByTestId('dag-avg-uncached').textContent).toBe('avg 10 s');
    const last = screen.getByTestId('dag-last-run');
    expect(last.textContent).toContain('succeeded');
    expect(last.textContent).toContain('2.0 s');
    expect(last.textContent).toContain('Hit');
    expect(last.textContent).toContain('575Ki from cache');
    expect(last.textContent).toContain('0B downloaded');
    const rows = [...document.querySelectorAll('.dag-runs-table tbody tr')];
    expect(rows.map((r) => r.getAttribute('data-cache-hit'))).toEqual(['Hit', 'Partial', 'Miss', 'N/A']);
    expect(rows[3]?.textContent).toContain('cache off');
    expect(document.querySelector('.dag-runs-table tr.row-current')?.getAttribute('data-run')).toBe('d1');
  });
});

describe('the list of DAG runs', () => {
  const summary = (id: string, patch: Partial<DagSummary> = {}): DagSummary => ({
    id,
    name: 'train-pipeline',
    userId: 'u1',
    status: 'succeeded',
    useCache: true,
    cancelRequested: false,
    createdAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:00:12.000Z',
    tasks: [
      { name: 'a', status: 'succeeded', taskId: 'ta', reason: null, dependsOn: [], inputs: [], outputs: [], artifacts: [] },
      { name: 'b', status: 'succeeded', taskId: 'tb', reason: null, dependsOn: ['a'], inputs: [], outputs: [], artifacts: [] },
    ],
    ...patch,
  });

  it('lists runs newest first with tasks done, cache result and duration', async () => {
    renderApp('/dags', [
      me,
      { path: '/api/dags', body: { dags: [summary('d2', { status: 'running', finishedAt: null, tasks: [summary('x').tasks[0]!, { ...summary('x').tasks[1]!, status: 'running' }] }), summary('d1')] } },
      metricsRoute([metric('d2', { status: 'running', cacheHit: 'Hit', durationMs: null, endTime: null }), metric('d1')]),
    ]);
    await waitFor(() => expect(document.querySelectorAll('tr[data-dag]')).toHaveLength(2));
    const rows = [...document.querySelectorAll('tr[data-dag]')];
    expect(rows.map((r) => r.getAttribute('data-dag'))).toEqual(['d2', 'd1']);
    await waitFor(() => expect(rows[0]?.querySelector('[data-cache-hit]')?.getAttribute('data-cache-hit')).toBe('Hit'));
    expect(rows[0]?.querySelector('[data-testid="tasks-done"]')?.textContent).toBe('1/2');
    expect(rows[0]?.textContent).toContain('so far');
    expect(rows[1]?.querySelector('[data-cache-hit]')?.getAttribute('data-cache-hit')).toBe('Miss');
    expect(rows[1]?.textContent).toContain('12 s');
    expect(within(rows[1] as HTMLElement).getByRole('link', { name: 'train-pipeline' }).getAttribute('href')).toBe('/dags/d1');
  });

  it('shows the metrics panel of the DAG picked in the filter', async () => {
    const app = renderApp('/dags', [me, { path: '/api/dags', body: { dags: [summary('d1')] } }, metricsRoute([metric('d1')])]);
    await waitFor(() => expect(document.querySelectorAll('tr[data-dag]')).toHaveLength(1));
    expect(document.querySelector('.dag-metrics')).toBeNull();
    fireEvent.change(screen.getByLabelText('DAG'), { target: { value: 'train-pipeline' } });
    await waitFor(() => expect(app.path()).toBe('/dags?name=train-pipeline'));
    expect((await screen.findByTestId('dag-runs-count')).textContent).toBe('1');
    expect(app.calls.some((c) => c.path === '/api/dags?limit=50&name=train-pipeline')).toBe(true);
  });

  it('has an empty state that leads to the editor, and an error state', async () => {
    renderApp('/dags', [me, { path: '/api/dags', body: { dags: [] } }]);
    expect(await screen.findByText(/No DAG runs yet\./)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Start one from the editor' }).getAttribute('href')).toBe('/dags/new');
    cleanup();
    renderApp('/dags', [me, { path: '/api/dags', status: 500, body: { error: { code: 'internal', message: 'the store is unavailable' } } }]);
    expect(await screen.findByText('the store is unavailable')).toBeTruthy();
  });
});
