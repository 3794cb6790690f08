import { describe, expect, it } from 'vitest';
import { checkLogChunks } from './log-chunk-check.js';

describe('checkLogChunks', () => {
  it.each([
    { sent: 0, received: 0, missing: 0, note: undefined },
    { sent: 7, received: 7, missing: 0, note: undefined },
    { sent: 5, received: 3, missing: 2, note: 'wharf: the worker sent 5 log chunks, the master received 3' },
    { sent: 1, received: 0, missing: 1, note: 'wharf: the worker sent 1 log chunk, the master received 0' },
    // a worker that claims fewer than arrived is wrong too: said, but nothing is missing
    { sent: 2, received: 4, missing: 0, note: 'wharf: the worker sent 2 log chunks, the master received 4' },
  ])('sent $sent, received $received -> $missing missing', ({ sent, received, missing, note }) => {
    expect(checkLogChunks(sent, received)).toEqual(note === undefined ? { missing } : { missing, note });
  });
});
