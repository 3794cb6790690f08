import { describe, expect, it } from 'vitest';
import { createCompleter } from './completer.js';
import type { IdResolver } from './id-resolver.js';

/** A fake of the id resolver: two task ids, nothing else. */
const fakeIds = {
  taskCandidates: (prefix: string) => Promise.resolve(['3f2a9c1e-aaaa', '3f2b0000-bbbb'].filter((id) => id.startsWith(prefix))),
  gangCandidates: (prefix: string) => Promise.resolve(['9c0ffee1-gggg', 'cafe0001-hhhh'].filter((id) => id.startsWith(prefix))),
} as unknown as IdResolver;

const complete = (line: string) =>
  new Promise<[string[], string]>((resolve, reject) => createCompleter(fakeIds, process.cwd())(line, (error, result) => (error ? reject(error) : resolve(result))));

describe('completing dead-letters', () => {
  it('offers the actions, then task ids after requeue and dismiss, and the options', async () => {
    expect(await complete('dead-l')).toEqual([['dead-letters '], 'dead-l']);
    expect(await complete('dead-letters r')).toEqual([['requeue '], 'r']);
    expect(await complete('dead-letters requeue 3f2a')).toEqual([['3f2a9c1e-aaaa'], '3f2a']);
    expect(await complete('dead-letters dismiss 3f2a9c1e-aaaa 3f2')).toEqual([['3f2a9c1e-aaaa', '3f2b0000-bbbb'], '3f2']);
    expect(await complete('dead-letters ls --im')).toEqual([['--image'], '--im']);
    expect(await complete('dead-letters ls --image wharf/busybox ')).toEqual([[], '']);
  });
});

describe('completing gangs', () => {
  it('offers gangs and gang, then cancel and gang ids, then gang ids after cancel', async () => {
    expect(await complete('gan')).toEqual([['gangs ', 'gang '], 'gan']);
    expect(await complete('gang ')).toEqual([['cancel ', '9c0ffee1-gggg', 'cafe0001-hhhh'], '']);
    expect(await complete('gang ca')).toEqual([['cancel ', 'cafe0001-hhhh'], 'ca']);
    expect(await complete('gang cancel 9c')).toEqual([['9c0ffee1-gggg'], '9c']);
    expect(await complete('gangs --l')).toEqual([['--limit'], '--l']);
  });
});
