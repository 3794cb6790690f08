import { describe, expect, it } from 'vitest';
import type { ApiTokenView, WorkerView } from './api-types.js';
import { pickToken, pickWorker } from './ids.js';

const worker = (id: string, name: string) => ({ id, name }) as WorkerView;
const token = (id: string, name: string) => ({ id, name }) as ApiTokenView;

describe('ids as people type them', () => {
  const workers = [worker('aa11-0000', 'gpu-box-1'), worker('aa22-0000', 'gpu-box-2'), worker('bb33-0000', 'laptop')];

  it('names a worker by a unique id prefix or by its name', () => {
    expect(pickWorker(workers, 'bb').name).toBe('laptop');
    expect(pickWorker(workers, 'aa2').name).toBe('gpu-box-2');
    expect(pickWorker(workers, 'gpu-box-1').id).toBe('aa11-0000');
  });

  it('lists the candidates of an ambiguous prefix, and says when nothing matches', () => {
    expect(() => pickWorker(workers, 'aa')).toThrow('"aa" names more than one worker: aa11-0000, aa22-0000; type more of the id');
    expect(() => pickWorker(workers, 'zz')).toThrow('no worker id starts with "zz" and no worker is named so');
  });

  it('names an API token by its name or an id prefix', () => {
    const tokens = [token('c0ffee00-1', 'ci'), token('c0ffee11-2', 'laptop')];
    expect(pickToken(tokens, 'laptop').id).toBe('c0ffee11-2');
    expect(pickToken(tokens, 'c0ffee0').name).toBe('ci');
    expect(() => pickToken(tokens, 'c0ffee')).toThrow(/names more than one API token/);
    expect(() => pickToken(tokens, 'nope')).toThrow('no API token is named "nope"');
  });
});
