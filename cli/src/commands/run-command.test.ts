import { describe, expect, it } from 'vitest';
import { RUN_COMMAND, runBody, runOutcome } from './run-command.js';
import { parseArgs } from '../parse-args.js';

const body = (words: string[], env: NodeJS.ProcessEnv = {}) => runBody(parseArgs('run', RUN_COMMAND.options, words), env);

describe('wharf run: the submission', () => {
  it('takes the image, the command as argv, and every option in the API\'s fields', () => {
    expect(
      body([
        '--cpu', '500m', '--memory', '2Gi', '--disk', '1Gi', '--gpu', '1', '--name', 'train', '-e', 'MODE=fast', '--label', 'zone=a',
        '--priority', '80', '--retries', '2', '--timeout', '5m', 'my/trainer:1.2', 'python', 'train.py',
      ]),
    ).toEqual({
      image: 'my/trainer:1.2',
      command: ['python', 'train.py'],
      name: 'train',
      resources: { cpu: '500m', memory: '2Gi', disk: '1Gi', gpu: 1 },
      env: { MODE: 'fast' },
      labels: { zone: 'a' },
      priority: 80,
      maxRetries: 2,
      timeoutSeconds: 300,
    });
  });

  it('takes the retry policy and deadlines in the API\'s fields', () => {
    expect(
      body(['--retries', '3', '--backoff', '5s', '--backoff-multiplier', '1.5', '--max-backoff', '2m', '--retry-on', '75,137', '--retry-on', 'timed_out', '--start-deadline', '10m', '--deadline', '2030-01-01T12:00:00Z', 'img']),
    ).toEqual({
      image: 'img',
      maxRetries: 3,
      retryPolicy: { backoffSeconds: 5, backoffMultiplier: 1.5, maxBackoffSeconds: 120, retryOn: { exitCodes: [75, 137], outcomes: ['timed_out'] } },
      startDeadline: '+10m',
      deadline: '2030-01-01T12:00:00Z',
    });
    expect(() => body(['--backoff', 'soon', 'img'])).toThrow('--backoff takes seconds or a duration');
    expect(() => body(['--backoff-multiplier', 'x', 'img'])).toThrow('--backoff-multiplier must be a number');
  });

  it('puts the words after -- into the command, options of the command included', () => {
    expect(body(['wharf/busybox', '--', 'sh', '-c', 'echo hi; exit 3'])).toEqual({ image: 'wharf/busybox', command: ['sh', '-c', 'echo hi; exit 3'] });
    expect(body(['wharf/busybox'])).toEqual({ image: 'wharf/busybox' });
  });

  it('passes -e NAME with its value from here, and refuses one that is not set', () => {
    expect(body(['-e', 'HOME', 'img'], { HOME: '/home/ada' }).env).toEqual({ HOME: '/home/ada' });
    expect(() => body(['-e', 'NOPE', 'img'], {})).toThrow('--env NOPE: NOPE is not set here (give NOPE=VALUE)');
    expect(() => body(['--label', 'zone', 'img'])).toThrow('--label takes KEY=VALUE (got "zone")');
    expect(() => body(['-e', 'A=1', '-e', 'A=2', 'img'])).toThrow('--env A is given twice');
  });

  it('reads --timeout as seconds or a duration, and refuses anything else', () => {
    expect(body(['--timeout', '90', 'img']).timeoutSeconds).toBe(90);
    expect(body(['--timeout', '1.5m', 'img']).timeoutSeconds).toBe(90);
    expect(() => body(['--timeout', 'soon', 'img'])).toThrow(/--timeout takes seconds or a duration/);
  });

  it('has no image with the exec runtime: every word is the command', () => {
    expect(body(['--runtime', 'exec', 'uname', '--', '-a'])).toEqual({ runtime: 'exec', command: ['uname', '-a'] });
    expect(() => body(['--runtime', 'exec'])).toThrow('--runtime exec needs a command');
    expect(() => body([])).toThrow(/needs an image/);
  });
});

describe('wharf run: the exit status', () => {
  it('exits with the task\'s code, 125 when it failed without one, 130 when cancelled', () => {
    expect(runOutcome({ status: 'succeeded', exitCode: 0 }, undefined)).toEqual({ code: 0 });
    expect(runOutcome({ status: 'failed', exitCode: 3 }, { reason: 'exit code 3' })).toEqual({ code: 3 });
    expect(runOutcome({ status: 'failed', exitCode: 137 }, { reason: 'timed out after 1s' })).toEqual({ code: 137, message: 'the task failed: timed out after 1s' });
    expect(runOutcome({ status: 'failed', exitCode: null }, { reason: 'image "x" not found' })).toEqual({ code: 125, message: 'the task failed: image "x" not found' });
    expect(runOutcome({ status: 'failed', exitCode: 0 }, { reason: 'declared output y.txt is missing' })).toEqual({
      code: 125,
      message: 'the task failed: declared output y.txt is missing',
    });
    expect(runOutcome({ status: 'cancelled', exitCode: null }, { reason: 'cancelled by ada@example.com' })).toEqual({
      code: 130,
      message: 'the task was cancelled (cancelled by ada@example.com)',
    });
  });
});
