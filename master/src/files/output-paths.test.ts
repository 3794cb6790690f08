import { describe, expect, it } from 'vitest';
import { normaliseOutputPath } from './output-paths.js';

describe('normaliseOutputPath', () => {
  it('normalises harmless paths', () => {
    expect(normaliseOutputPath('a/./b.txt')).toBe('a/b.txt');
    expect(normaliseOutputPath('dir//file')).toBe('dir/file');
    expect(normaliseOutputPath('result.json')).toBe('result.json');
  });
  it.each([
    ['/etc/passwd', 'is absolute'],
    ['../secret', 'contains ".."'],
    ['a/../../b', 'contains ".."'],
    ['a\\..\\b', 'contains a backslash'],
    ['', 'is empty'],
    ['.', 'names no file'],
    ['a\0b', 'contains a NUL byte'],
  ])('refuses %j because it %s', (input, why) => {
    expect(() => normaliseOutputPath(input)).toThrow(why);
  });
});
