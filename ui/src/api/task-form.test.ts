// @vitest-environment node
// The form's checks must agree with the API's (master/src/tasks/task-input.ts): the same inputs
// go through both, and each must accept or refuse alike, naming the same field.
import { describe, expect, it } from 'vitest';
import { parseTaskInput } from '../../../master/src/tasks/task-input.ts';
import { buildSubmission, emptyTaskForm, formFieldOf, formFromTask, type TaskForm } from './task-form.ts';
import type { Task } from './types.ts';

const form = (patch: Partial<TaskForm>): TaskForm => ({ ...emptyTaskForm(), image: 'wharf/busybox', command: 'echo hi', ...patch });

function serverVerdict(body: unknown): { ok: true } | { ok: false; field: string | undefined; message: string } {
  try {
    parseTaskInput(body);
    return { ok: true };
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, field: formFieldOf(message.split(':')[0] ?? ''), message };
  }
}

const cases: [string, Partial<TaskForm>][] = [
  ['a plain task', {}],
  ['no image for docker', { image: '' }],
  ['an image with upper case', { image: 'Busybox' }],
  ['an image with a registry port and digest', { image: 'registry.local:5000/team/app:1.2@sha256:' + 'a'.repeat(64) }],
  ['cpu in millicores', { cpu: '250', cpuUnit: 'millicores' }],
  ['cpu that is not a number', { cpu: 'lots' }],
  ['negative cpu', { cpu: '-1' }],
  ['memory in GiB', { memory: '1.5', memoryUnit: 'Gi' }],
  ['memory below 6Mi', { memory: '4', memoryUnit: 'Mi' }],
  ['memory that is not a number', { memory: 'x' }],
  ['memory typed with its own unit', { memory: '2Gi', memoryUnit: 'Mi' }],
  ['memory in words', { memory: 'lots', memoryUnit: 'Mi' }],
  ['disk in GiB', { disk: '10', diskUnit: 'Gi' }],
  ['a fractional gpu', { gpu: '0.5' }],
  ['too many gpus', { gpu: '65' }],
  ['priority above 100', { priority: '101' }],
  ['priority 100', { priority: '100' }],
  ['fractional retries', { maxRetries: '1.5' }],
  ['retries above 100', { maxRetries: '101' }],
  ['a timeout of 30 days', { timeoutSeconds: String(30 * 86400) }],
  ['a timeout over 30 days', { timeoutSeconds: String(30 * 86400 + 1) }],
  ['an env key with a dash', { env: [{ key: 'BAD-KEY', value: 'x' }] }],
  ['a good env', { env: [{ key: 'GREETING', value: 'hello world' }] }],
  ['a label key with a space', { labels: [{ key: 'bad key', value: 'x' }] }],
  ['a good label', { labels: [{ key: 'zone', value: 'a' }] }],
  ['a label value over 256 characters', { labels: [{ key: 'zone', value: 'x'.repeat(257) }] }],
  ['a name over 200 characters', { name: 'n'.repeat(201) }],
  ['an argv command', { commandMode: 'argv', command: 'echo\nhello world' }],
  ['exec without a command', { runtime: 'exec', image: '', command: '' }],
  ['exec with a command', { runtime: 'exec', image: '', command: 'uname -a' }],
  ['a retry policy', { maxRetries: '3', backoffSeconds: '2', backoffMultiplier: '3', maxBackoffSeconds: '60', retryOnExitCodes: '75, 137' }],
  ['a backoff cap below the first wait', { backoffSeconds: '10', maxBackoffSeconds: '5' }],
  ['a multiplier below 1', { backoffMultiplier: '0.5' }],
  ['an exit code over 255', { retryOnExitCodes: '256' }],
  ['deadlines from now', { startDeadline: '+10m', deadline: '+2h' }],
  ['a deadline with its zone', { deadline: new Date(Date.now() + 86_400_000).toISOString() }],
  ['a deadline more than a year ahead', { deadline: '2099-01-01T12:00:00Z' }],
  ['a deadline more than a year from now', { deadline: '+400d' }],
  ['a deadline without a unit', { deadline: '+90' }],
  ['a deadline in words', { startDeadline: 'tomorrow' }],
];

describe('the submit form checks what the API checks', () => {
  it.each(cases)('%s', (_name, patch) => {
    const { submission, errors } = buildSubmission(form(patch));
    const server = serverVerdict(submission);
    const clientFields = Object.keys(errors);
    if (server.ok) expect(clientFields, 'the form refuses what the API accepts').toEqual([]);
    else {
      expect(clientFields.length, `the form lets through what the API refuses: ${server.message}`).toBeGreaterThan(0);
      expect(clientFields).toContain(server.field);
    }
  });

  it('builds the body the API documents', () => {
    const { submission, errors } = buildSubmission(
      form({ name: ' hello ', memory: '512', memoryUnit: 'Mi', cpu: '500', cpuUnit: 'millicores', env: [{ key: 'A', value: '1' }, { key: '', value: '' }] }),
    );
    expect(errors).toEqual({});
    expect(submission).toEqual({
      name: 'hello',
      image: 'wharf/busybox',
      command: 'echo hi',
      env: { A: '1' },
      resources: { cpu: '500m', memory: '512Mi', gpu: 0 },
      priority: 50,
      maxRetries: 0,
      timeoutSeconds: 0,
    });
    // disk not given: the master fills in its configured default
    expect(parseTaskInput(submission).resources).toEqual({ cpu: 0.5, memory: 512 * 1024 ** 2, gpu: 0 });
  });

  it('refuses an env variable given twice instead of dropping one', () => {
    const { errors } = buildSubmission(form({ env: [{ key: 'A', value: '1' }, { key: 'A', value: '2' }] }));
    expect(errors.env).toMatch(/"A" is given twice/);
  });

  it('fills the form back from a task so Edit & resubmit sends the same thing, container settings included', () => {
    const submitted = {
      image: 'wharf/busybox',
      command: 'echo hi',
      name: 'again',
      env: { A: '1' },
      resources: { cpu: 0.25, memory: '96Mi' },
      priority: 70,
      maxRetries: 2,
      timeoutSeconds: 30,
      labels: { zone: 'a' },
      network: 'none',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      pullPolicy: 'Always',
    };
    const parsed = parseTaskInput(submitted);
    // as the API shows the stored task: every amount resolved
    const task = { ...parsed, resources: { gpu: 0, disk: 0, ...parsed.resources }, id: 't1', userId: 'u', status: 'succeeded', retriesUsed: 0, createdAt: '' } as unknown as Task;
    const { submission, errors } = buildSubmission(formFromTask(task));
    expect(errors).toEqual({});
    expect(parseTaskInput(submission)).toEqual({ ...parsed, resources: { ...parsed.resources, gpu: 0 } });
    expect(parseTaskInput(submission)).toMatchObject({ network: 'none', user: '1000:1000', readOnlyRootFilesystem: true, pullPolicy: 'Always' });
  });

  it('never glues the unit onto what was typed: the form and the master quote it as typed', () => {
    const { submission, errors } = buildSubmission(form({ memory: 'lots', memoryUnit: 'Mi', disk: 'big', diskUnit: 'Gi', cpu: 'many', cpuUnit: 'millicores' }));
    expect(errors['resources.memory']).toBe('must be a number of MiB such as 512, or a quantity such as 2Gi (got "lots")');
    expect(errors['resources.disk']).toBe('must be a number of GiB such as 10, or a quantity such as 10Gi (got "big")');
    expect(errors['resources.cpu']).toBe('must be a quantity such as 0.5, 2 or 500m (got "many")');
    expect(submission.resources).toMatchObject({ memory: 'lots', disk: 'big', cpu: 'many' });
    const server = serverVerdict(submission) as { message: string };
    expect(server.message).toContain('(got "lots")');
    expect(server.message).not.toContain('lotsMi');
  });
});
