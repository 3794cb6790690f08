import { describe, expect, it } from 'vitest';
import { parseTaskInput } from '../tasks/task-input.js';
import { parseSubmitArgs } from './submit-args.js';
import { tokenize } from './tokenize.js';

const submit = (line: string) => parseSubmitArgs(tokenize(line).words);

describe('submit arguments', () => {
  it('reads the image, the command as argv and every option, in any order', () => {
    const body = submit(
      `--cpu 500m wharf/busybox sh -c 'echo "a b"; date' --memory=64Mi --gpu 1 --priority 70 --retries 2 --timeout 5m --name hi --env A=1 --env B=x=y --label zone=a --disk 1Gi`,
    );
    expect(body).toEqual({
      image: 'wharf/busybox',
      command: ['sh', '-c', 'echo "a b"; date'],
      name: 'hi',
      resources: { cpu: '500m', memory: '64Mi', disk: '1Gi', gpu: 1 },
      priority: 70,
      maxRetries: 2,
      timeoutSeconds: 300,
      env: { A: '1', B: 'x=y' },
      labels: { zone: 'a' },
    });
    const task = parseTaskInput(body);
    expect(task.resources).toEqual({ cpu: 0.5, memory: 64 * 1024 ** 2, gpu: 1, disk: 1024 ** 3 });
    expect(task.command).toEqual(['sh', '-c', 'echo "a b"; date']);
  });

  it('reads the retry policy and deadlines into the body REST takes', () => {
    expect(submit('img --retries 3 --backoff 5s --backoff-multiplier 1.5 --max-backoff 2m --retry-on 75,137 --retry-on timed_out --start-deadline 10m --deadline 2030-01-01T12:00:00Z')).toEqual({
      image: 'img',
      maxRetries: 3,
      retryPolicy: { backoffSeconds: 5, backoffMultiplier: 1.5, maxBackoffSeconds: 120, retryOn: { exitCodes: [75, 137], outcomes: ['timed_out'] } },
      startDeadline: '+10m',
      deadline: '2030-01-01T12:00:00Z',
    });
    expect(() => submit('img --backoff-multiplier x')).toThrow('--backoff-multiplier must be a number');
    expect(() => submit('img --max-backoff soon')).toThrow('--max-backoff takes seconds or a duration');
  });

  it('passes words after -- to the command, even ones that look like options', () => {
    expect(submit('img ls -- --color --cpu 3')).toEqual({ image: 'img', command: ['ls', '--color', '--cpu', '3'] });
  });

  it('takes every word as the command with the exec runtime', () => {
    const body = submit('--runtime exec echo hi');
    expect(body).toEqual({ runtime: 'exec', command: ['echo', 'hi'] });
    expect(parseTaskInput(body).image).toBe('');
  });

  it('reads --timeout as seconds or a duration', () => {
    expect(submit('img --timeout 90').timeoutSeconds).toBe(90);
    expect(submit('img --timeout 2h').timeoutSeconds).toBe(7200);
    expect(() => submit('img --timeout soon')).toThrow('--timeout takes seconds or a duration such as 90s, 5m or 2h (got "soon")');
    expect(() => submit('img --timeout 1.5')).toThrow('--timeout takes seconds');
  });

  it('refuses malformed options with a message naming the option', () => {
    expect(() => submit('img --cpu')).toThrow('submit: --cpu needs a value');
    expect(() => submit('img --gpu two')).toThrow('submit: --gpu must be a whole number (got "two")');
    expect(() => submit('img --label zone')).toThrow('submit: --label takes KEY=VALUE (got "zone")');
    expect(() => submit('img --env A=1 --env A=2')).toThrow('submit: --env A is given twice');
    expect(() => submit('img --cpu 1 --cpu 2')).toThrow('submit: --cpu is given twice');
    expect(() => submit('img --verbose')).toThrow('submit: unknown option --verbose');
  });

  it('reads the container settings: network, user, --read-only, repeated --cap-add, --pull', () => {
    expect(submit('img --network none --user 1000:1000 --read-only --cap-add NET_ADMIN --cap-add SYS_PTRACE --pull Always')).toEqual({
      image: 'img',
      network: 'none',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: ['NET_ADMIN', 'SYS_PTRACE'],
      pullPolicy: 'Always',
    });
    expect(() => submit('img --read-only=yes')).toThrow('submit: --read-only takes no value');
    expect(() => parseTaskInput(submit('img --pull Sometimes'))).toThrow(/^pullPolicy: /);
  });

  it('leaves the rules about tasks to the same validation as REST', () => {
    expect(() => parseTaskInput(submit('img --priority 101'))).toThrow(/^priority: /);
    expect(() => parseTaskInput(submit('--memory 64Mi'))).toThrow('image: is required for the docker runtime');
    expect(() => parseTaskInput(submit('img --runtime podman'))).toThrow(/^runtime: /);
  });
});

describe('tokenize', () => {
  it('splits like a shell: quotes, escapes, and whether the line ends inside a word', () => {
    expect(tokenize(`a 'b c' "d \\"e\\"" f\\ g`)).toEqual({ words: ['a', 'b c', 'd "e"', 'f g'], endsInWord: true, error: undefined });
    expect(tokenize('logs ab ').endsInWord).toBe(false);
    expect(tokenize(`x ''`).words).toEqual(['x', '']);
    expect(tokenize(`echo "open`).error).toBe('unclosed double quote');
  });
});
