import { describe, expect, it } from 'vitest';
import { MAX_BATCH, parseTaskBatch, parseTaskInput } from './task-input.js';

describe('parseTaskInput', () => {
  it('normalises a full submission', () => {
    const task = parseTaskInput({
      image: 'wharf/busybox:latest',
      command: 'echo hi',
      env: { GREETING: 'hello' },
      resources: { cpu: '500m', memory: '512Mi', gpu: 1, disk: '1Gi' },
      priority: 90,
      maxRetries: 2,
      timeoutSeconds: 30,
      labels: { zone: 'a' },
    });
    expect(task).toEqual({
      name: 'busybox',
      image: 'wharf/busybox:latest',
      command: ['sh', '-c', 'echo hi'],
      env: { GREETING: 'hello' },
      runtime: 'docker',
      resources: { cpu: 0.5, memory: 512 * 1024 ** 2, gpu: 1, disk: 1024 ** 3 },
      priority: 90,
      maxRetries: 2,
      timeoutSeconds: 30,
      labels: { zone: 'a' },
    });
  });

  it('takes a retry policy, its maxRetries as the task\'s own (the old field keeps working)', () => {
    const task = parseTaskInput({
      image: 'alpine',
      retryPolicy: { maxRetries: 3, backoffSeconds: 2, backoffMultiplier: 3, maxBackoffSeconds: 60, retryOn: { exitCodes: [137, 75, 75], outcomes: ['timed_out'] } },
    });
    expect(task.maxRetries).toBe(3);
    expect(task.retryPolicy).toEqual({ backoffSeconds: 2, backoffMultiplier: 3, maxBackoffSeconds: 60, retryOn: { exitCodes: [75, 137], outcomes: ['timed_out'] } });
    expect(parseTaskInput({ image: 'alpine', maxRetries: 2 })).toMatchObject({ maxRetries: 2 });
    expect(parseTaskInput({ image: 'alpine', maxRetries: 2, retryPolicy: { maxRetries: 2 } })).toMatchObject({ maxRetries: 2 });
    expect(parseTaskInput({ image: 'alpine' }).retryPolicy).toBeUndefined();
  });

  it.each([
    [{ maxRetries: 1, retryPolicy: { maxRetries: 2 } }, 'retryPolicy.maxRetries: 2 differs from maxRetries 1'],
    [{ retryPolicy: { backoffSeconds: 10, maxBackoffSeconds: 5 } }, 'retryPolicy.maxBackoffSeconds: 5 is below backoffSeconds 10'],
    [{ retryPolicy: { backoffMultiplier: 0.5 } }, 'retryPolicy.backoffMultiplier'],
    [{ retryPolicy: { retryOn: {} } }, 'retryPolicy.retryOn: give exitCodes or outcomes'],
    [{ retryPolicy: { retryOn: { outcomes: ['cancelled'] } } }, 'retryPolicy.retryOn.outcomes.0'],
    [{ retryPolicy: { retryOn: { exitCodes: [256] } } }, 'retryPolicy.retryOn.exitCodes.0'],
    [{ retryPolicy: { tries: 3 } }, 'unknown field "tries"'],
  ])('refuses the retry policy %j naming the field', (policy, message) => {
    expect(() => parseTaskInput({ image: 'alpine', ...policy })).toThrow(message);
  });

  it('takes deadlines as ISO date-times with a zone or durations from now', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(parseTaskInput({ image: 'alpine', startDeadline: '+90s', deadline: '2030-01-01T02:00:00+01:00' }, now)).toMatchObject({
      startDeadline: now + 90_000,
      deadline: now + 3_600_000,
    });
    expect(parseTaskInput({ image: 'alpine' }, now).startDeadline).toBeUndefined();
  });

  it.each([
    [{ startDeadline: 'tomorrow' }, 'startDeadline: "tomorrow" is not an ISO 8601 date-time with its zone'],
    [{ deadline: '2030-01-01T10:00:00' }, 'deadline: "2030-01-01T10:00:00" is not an ISO 8601 date-time with its zone'],
    [{ deadline: '+90' }, 'deadline: "+90" is not a duration from now'],
    [{ deadline: '+400d' }, 'deadline: "+400d" is not a duration from now'],
    [{ startDeadline: '+10m', deadline: '+5m' }, 'deadline: is before startDeadline'],
    [{ deadline: 1893456000000 }, 'deadline: '],
  ])('refuses the deadline %j naming the field', (fields, message) => {
    expect(() => parseTaskInput({ image: 'alpine', ...fields })).toThrow(message);
  });

  it('keeps an argv array as it is and fills defaults', () => {
    const task = parseTaskInput({ image: 'alpine', command: ['echo', 'a b'] });
    expect(task.command).toEqual(['echo', 'a b']);
    // absent: the submission gives it the queue's default priority
    expect(task.priority).toBeUndefined();
    // absent amounts stay absent: the submission system applies the configured defaults
    expect(task.resources).toEqual({});
  });

  it('takes the container settings, normalising capability names and leaving defaults out', () => {
    const task = parseTaskInput({
      image: 'a',
      network: 'none',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: ['cap_net_admin', 'SYS_PTRACE', 'NET_ADMIN'],
      pullPolicy: 'Always',
    });
    expect(task).toMatchObject({ network: 'none', user: '1000:1000', readOnlyRootFilesystem: true, capAdd: ['NET_ADMIN', 'SYS_PTRACE'], pullPolicy: 'Always' });
    const plain = parseTaskInput({ image: 'a', network: 'default', readOnlyRootFilesystem: false, capAdd: [], pullPolicy: 'IfNotPresent' });
    for (const field of ['network', 'user', 'readOnlyRootFilesystem', 'capAdd', 'pullPolicy']) expect(plain).not.toHaveProperty(field);
  });

  it('takes preemptible: false, leaves the default (true) out, and refuses a non-boolean naming the field', () => {
    expect(parseTaskInput({ image: 'a', preemptible: false })).toMatchObject({ preemptible: false });
    expect(parseTaskInput({ image: 'a', preemptible: true })).not.toHaveProperty('preemptible');
    expect(parseTaskInput({ image: 'a' })).not.toHaveProperty('preemptible');
    expect(() => parseTaskInput({ image: 'a', preemptible: 'no' })).toThrow(/^preemptible: /);
  });

  it.each([
    [{}, /image: is required/],
    [{ image: 'UPPER/Case' }, /image: .* is not a valid image reference/],
    [{ image: 'a', priority: 101 }, /^priority: /],
    [{ image: 'a', resources: { memory: 'lots' } }, /resources\.memory: must be a quantity/],
    [{ image: 'a', resources: { cpu: -1 } }, /resources\.cpu: must be a quantity/],
    [{ image: 'a', env: { 'BAD-KEY': 'x' } }, /env\.BAD-KEY: keys must be/],
    // an own "__proto__" key (as JSON.parse makes it) would vanish in the parsed record: refused
    [JSON.parse('{"image": "a", "env": {"__proto__": "x"}}') as unknown, /^env\.__proto__: the name "__proto__" is not accepted$/],
    [{ image: 'a', color: 'red' }, /unknown field "color"/],
    [{ image: 'a', runtime: 'vm' }, /^runtime: /],
    [{ runtime: 'exec' }, /command: is required for the exec runtime/],
    [{ image: 'a', network: 'bridge' }, /^network: /],
    [{ image: 'a', user: 'a b' }, /^user: must be a uid, uid:gid, or a user name/],
    [{ image: 'a', capAdd: ['NET_SNIFF'] }, /^capAdd\.0: "NET_SNIFF" is not a Linux capability/],
    [{ image: 'a', pullPolicy: 'Sometimes' }, /^pullPolicy: /],
    [{ image: 'a', readOnlyRootFilesystem: 'yes' }, /^readOnlyRootFilesystem: /],
    [{ runtime: 'exec', command: 'true', network: 'none' }, /^network: applies to container tasks \(docker, kubernetes\), not to exec tasks$/],
    [{ runtime: 'sim', image: 'sim', user: '1000' }, /^user: applies to container tasks/],
    [[1, 2], /body: must be a JSON object/],
  ])('refuses %j naming the field', (body, message) => {
    expect(() => parseTaskInput(body)).toThrow(message);
  });
});

describe('parseTaskBatch', () => {
  it('validates every submission like a single one', () => {
    const tasks = parseTaskBatch({ tasks: [{ image: 'a' }, { image: 'b', runtime: 'sim' }] });
    expect(tasks.map((t) => [t.image, t.runtime])).toEqual([
      ['a', 'docker'],
      ['b', 'sim'],
    ]);
  });
  it('names the index and the field of a bad submission', () => {
    expect(() => parseTaskBatch({ tasks: [{ image: 'a' }, { image: 'a', priority: 500 }] })).toThrow(/^tasks\[1\]\.priority: /);
  });
  it('refuses an empty, missing or oversized batch', () => {
    expect(() => parseTaskBatch({ tasks: [] })).toThrow(/must not be empty/);
    expect(() => parseTaskBatch({})).toThrow(/tasks: must be an array/);
    expect(() => parseTaskBatch({ tasks: Array.from({ length: MAX_BATCH + 1 }, () => ({ image: 'a' })) })).toThrow(/at most 1000/);
  });
});
