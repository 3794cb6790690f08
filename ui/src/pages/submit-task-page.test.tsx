import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const fieldOf = (label: string) => screen.getByLabelText(label).closest('.field, fieldset') as HTMLElement;
const me = { path: '/api/auth/me', body: { user: USER } };

describe('the submit form', () => {
  it('every control has a label', async () => {
    renderApp('/tasks/new', [me]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    for (const control of document.querySelectorAll('input, select, textarea')) {
      const labelled = control.getAttribute('aria-label') || (control.id && document.querySelector(`label[for="${control.id}"]`));
      expect(labelled, control.outerHTML).toBeTruthy();
    }
  });

  it('shows a bad quantity at its field and sends nothing', async () => {
    const app = renderApp('/tasks/new', [me]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'wharf/busybox' } });
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '4' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '101' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(await within(fieldOf('Memory')).findByText('must be at least 6Mi (Docker refuses less)')).toBeTruthy();
    expect(within(fieldOf('Priority')).getByText('must be at most 100')).toBeTruthy();
    expect(app.calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('sends resources with their units, env and labels, then opens the new task', async () => {
    const app = renderApp('/tasks/new', [
      me,
      { method: 'POST', path: '/api/tasks', status: 201, body: { task: { id: 't-42' } } },
      { path: '/api/tasks/t-42', status: 404, body: { error: { code: 'not_found', message: 'task t-42 not found' } } },
    ]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'wharf/busybox' } });
    fireEvent.change(screen.getByLabelText('Command'), { target: { value: 'echo hi' } });
    fireEvent.change(screen.getByLabelText('CPU'), { target: { value: '250' } });
    fireEvent.change(screen.getByLabelText('CPU unit'), { target: { value: 'millicores' } });
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Memory unit'), { target: { value: 'Gi' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add variable' }));
    fireEvent.change(screen.getByLabelText('Environment 1 name'), { target: { value: 'MODE' } });
    fireEvent.change(screen.getByLabelText('Environment 1 value'), { target: { value: 'fast' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add label' }));
    fireEvent.change(screen.getByLabelText('Labels the worker must carry 1 name'), { target: { value: 'zone' } });
    fireEvent.change(screen.getByLabelText('Labels the worker must carry 1 value'), { target: { value: 'a' } });
    fireEvent.change(screen.getByLabelText('Retries'), { target: { value: '2' } });
    fireEvent.change(screen.getByLabelText('Timeout (seconds)'), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    await waitFor(() => expect(app.path()).toBe('/tasks/t-42'));
    expect(app.calls.find((c) => c.method === 'POST')?.body).toEqual({
      image: 'wharf/busybox',
      command: 'echo hi',
      env: { MODE: 'fast' },
      labels: { zone: 'a' },
      resources: { cpu: '250m', memory: '1Gi', gpu: 0 },
      priority: 50,
      maxRetries: 2,
      timeoutSeconds: 30,
    });
  });

  it('shows the API’s own refusal at the field it names', async () => {
    renderApp('/tasks/new', [
      me,
      { method: 'POST', path: '/api/tasks', status: 400, body: { error: { code: 'validation_failed', message: 'image: "wharf/busybox" is not a valid image reference; env.X: too long' } } },
    ]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'wharf/busybox' } });
    fireEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(await within(fieldOf('Image')).findByText('"wharf/busybox" is not a valid image reference')).toBeTruthy();
    expect(screen.getByText('X: too long')).toBeTruthy();
  });

  it("focuses the field of an error only the master finds, and quotes the value as typed", async () => {
    renderApp('/tasks/new', [
      me,
      { method: 'POST', path: '/api/tasks', status: 400, body: { error: { code: 'validation_failed', message: 'resources.memory: must be a quantity such as 512Mi or 2Gi (got "lots")' } } },
    ]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'wharf/busybox' } });
    // the master is the one that refuses here (the form lets it through when it would not)
    fireEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    const message = await within(fieldOf('Memory')).findByText('must be a quantity such as 512Mi or 2Gi (got "lots")');
    expect(message).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Memory')));
    expect(screen.getByLabelText('Memory').getAttribute('aria-invalid')).toBe('true');
  });

  it('answers "Will it fit?" with each worker and its reasons, and sends what Submit would send', async () => {
    const app = renderApp('/tasks/new', [
      me,
      {
        method: 'POST',
        path: '/api/tasks/fit',
        body: {
          fits: false,
          workerId: null,
          workers: [
            { id: 'w-1', name: 'gpu-box', fits: false, reasons: ['cpu: asks 8, the worker has 4 in all'] },
            { id: 'w-2', name: 'small', fits: false, reasons: ['draining: takes no new tasks', 'lacks label zone=a'] },
          ],
          queue: { name: 'default', fits: true, reasons: [] },
        },
      },
    ]);
    await screen.findByRole('heading', { name: 'Submit a task' });
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'wharf/busybox' } });
    fireEvent.change(screen.getByLabelText('CPU'), { target: { value: '8' } });
    fireEvent.click(screen.getByRole('button', { name: 'Will it fit?' }));
    const answer = await screen.findByTestId('fit-answer');
    expect(answer.textContent).toContain('It does not fit now.');
    expect([...answer.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'gpu-box: cpu: asks 8, the worker has 4 in all',
      'small: draining: takes no new tasks; lacks label zone=a',
    ]);
    const sent = app.calls.find((c) => c.path === '/api/tasks/fit');
    expect(sent?.body).toMatchObject({ image: 'wharf/busybox', resources: { cpu: 8 } });
    expect(app.calls.some((c) => c.method === 'POST' && c.path === '/api/tasks')).toBe(false);
  });
});
