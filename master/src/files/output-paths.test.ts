import { describe, expect, it } from 'vitest';
import { normaliseOutputPath } from './output-paths.js';

describe('normaliseOutputPath', () => {
  it('normalises harmless paths', () => {
    expect(normaliseOutputPath('a/./b.txt')).toBe('a/b.txt');
    expect(normaliseOutputPath('dir//file')).toBe('dir/file');
    expect(normaliseOutputPath('result.json')).toBe('result.json');
  });
  it('keeps names up to 255 bytes and paths up to 4096 bytes', () => {
    const name = 'n'.repeat(255);
    expect(normaliseOutputPath(name)).toBe(name);
    const deep = 'x/' + `${'d'.repeat(255)}/`.repeat(15) + 'f'.repeat(254);
    expect(Buffer.byteLength(deep)).toBe(4096);
    expect(normaliseOutputPath(deep)).toBe(deep);
  });
  it.each([
    ['/etc/passwd', 'is absolute'],
    ['../secret', 'contains ".."'],
    ['a/../../b', 'contains ".."'],
    ['a\\..\\b', 'contains a backslash'],
    ['', 'is empty'],
    ['.', 'names no file'],
    ['a\0b', 'contains a NUL byte'],
    ['x'.repeat(256), 'has a name of 256 bytes; names may be at most 255 bytes'],
    ['dir/' + 'é'.repeat(128), 'has a name of 256 bytes'],
    [`${'d'.repeat(200)}/`.repeat(21) + 'f', 'is 4222 bytes long; output paths may be at most 4096 bytes'],
  ])('refuses %j because it %s', (input, why) => {
    expect(() => normaliseOutputPath(input)).toThrow(why);
  });
});
