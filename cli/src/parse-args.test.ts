import { describe, expect, it } from 'vitest';
import type { OptionSpec } from './command-spec.js';
import { UsageError } from './errors.js';
import { expectArgs, intOption, parseArgs } from './parse-args.js';

const OPTIONS: OptionSpec[] = [
  { name: 'detach', short: 'd', help: '' },
  { name: 'cpu', value: 'N', help: '' },
  { name: 'env', short: 'e', value: 'K=V', multiple: true, help: '' },
  { name: 'output', short: 'o', value: 'F', help: '' },
];

describe('parseArgs', () => {
  it('takes options anywhere, in both --name value and --name=value forms, repeatable ones in order', () => {
    const args = parseArgs('run', OPTIONS, ['--cpu', '2', 'busybox', '-e', 'A=1', 'echo', '--env=B=2', '-d', 'hi']);
    expect(args.positionals).toEqual(['busybox', 'echo', 'hi']);
    expect(args.values).toEqual({ cpu: '2', env: ['A=1', 'B=2'], detach: true });
  });

  it('leaves every word after -- to the command, options included', () => {
    const args = parseArgs('run', OPTIONS, ['busybox', '--', 'ls', '-l', '--cpu', '9']);
    expect(args.positionals).toEqual(['busybox']);
    expect(args.rest).toEqual(['ls', '-l', '--cpu', '9']);
    expect(args.values).toEqual({});
  });

  it('refuses an unknown option, a missing value, a value on a switch and a single option given twice, naming the command', () => {
    const refuse = (words: string[]) => {
      try {
        parseArgs('run', OPTIONS, words);
      } catch (error: unknown) {
        expect(error).toBeInstanceOf(UsageError);
        expect((error as UsageError).command).toBe('run');
        return (error as UsageError).message;
      }
      throw new Error('accepted');
    };
    expect(refuse(['busybox', 'sh', '-c', 'x'])).toMatch(/^unknown option -c/);
    expect(refuse(['--cpu'])).toBe('--cpu needs a value (N)');
    expect(refuse(['--detach=yes'])).toBe('--detach takes no value');
    expect(refuse(['--cpu', '1', '--cpu', '2'])).toBe('--cpu is given twice');
  });

  it('keeps a lone - as an argument (stdin or stdout)', () => {
    expect(parseArgs('cp', [], ['abc:x', '-']).positionals).toEqual(['abc:x', '-']);
  });

  it('reads whole numbers within bounds and counts arguments', () => {
    const args = parseArgs('ls', [{ name: 'limit', value: 'N', help: '' }], ['--limit', '20', 'extra']);
    expect(intOption('ls', args, 'limit', 1, 500)).toBe(20);
    expect(() => intOption('ls', parseArgs('ls', [{ name: 'limit', value: 'N', help: '' }], ['--limit', '0']), 'limit', 1, 500)).toThrow(
      '--limit takes a whole number from 1 to 500 (got "0")',
    );
    expect(() => expectArgs('ls', args, 0, 0, '')).toThrow('unexpected argument "extra"');
    expect(() => expectArgs('get', parseArgs('get', [], []), 1, 1, 'a task id')).toThrow('needs a task id');
  });
});
