import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiDocsPage, type OpenApiDocument } from './api-docs-page.tsx';

afterEach(cleanup);

const DOC: OpenApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Wharf API', version: '0.1.0', description: 'the REST API' },
  tags: [{ name: 'Tasks' }, { name: 'Workers' }],
  paths: {
    '/api/tasks/{id}': {
      get: {
        operationId: 'getTask',
        tags: ['Tasks'],
        summary: 'A task with its attempts',
        'x-wharf-auth': 'user',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 128 } }],
        responses: { 200: { description: 'the task', content: { 'application/json': { schema: { $ref: '#/components/schemas/Task' } } } } },
      },
    },
    '/api/workers/{id}/drain': {
      post: { operationId: 'drainWorker', tags: ['Workers'], summary: 'Drain a worker', 'x-wharf-auth': 'admin', responses: { 202: { description: 'the worker' } } },
    },
  },
  components: { schemas: { Task: { type: 'object', description: 'a task', properties: { id: { type: 'string' } } } } },
};

function renderWith(fetchImpl: typeof fetch) {
  return render(
    <MemoryRouter>
      <ApiDocsPage fetchImpl={fetchImpl} />
    </MemoryRouter>,
  );
}

describe('the API reference page', () => {
  it('lists the routes by tag with their parameters, answers, auth and schemas', async () => {
    const asked: string[] = [];
    renderWith(async (input) => {
      asked.push(String(input));
      return new Response(JSON.stringify(DOC), { headers: { 'content-type': 'application/json' } });
    });
    expect(await screen.findByRole('heading', { name: 'Wharf API' })).toBeTruthy();
    expect(asked).toEqual(['/api/openapi.json']);
    expect(screen.getByRole('heading', { name: 'Tasks' })).toBeTruthy();
    const entry = screen.getByText('/api/tasks/{id}').closest('details')!;
    fireEvent.click(entry.querySelector('summary')!);
    expect(entry.textContent).toContain('{"type":"string","maxLength":128}');
    const link = screen.getByRole('link', { name: 'Task' });
    expect(link.getAttribute('href')).toBe('#schema-Task');
    fireEvent.click(link);
    expect(document.getElementById('schema-Task')!.hasAttribute('open')).toBe(true);
    expect(screen.getByText('/api/workers/{id}/drain').closest('summary')!.textContent).toContain('admin');
    expect(document.getElementById('schema-Task')!.textContent).toContain('"description": "a task"');
  });

  it('says when the document cannot be loaded, and tries again', async () => {
    let calls = 0;
    renderWith(async () => {
      calls += 1;
      return calls === 1 ? new Response('no', { status: 503 }) : new Response(JSON.stringify(DOC));
    });
    expect((await screen.findByRole('alert')).textContent).toContain('The master answered 503');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: 'Wharf API' })).toBeTruthy();
  });
});
