import { describe, expect, it } from 'vitest';
import { OutputLedger, outputCapFor } from './output-ledger.js';

const cap = (bytes: number) => ({ bytes, source: 'WHARF_MAX_OUTPUT_BYTES' });

describe('outputCapFor', () => {
  it.each([
    { max: 100, disk: 0, bytes: 100, source: 'WHARF_MAX_OUTPUT_BYTES' },
    { max: 100, disk: 40, bytes: 40, source: "the task's disk request" },
    { max: 100, disk: 100, bytes: 100, source: 'WHARF_MAX_OUTPUT_BYTES' },
    { max: 100, disk: 500, bytes: 100, source: 'WHARF_MAX_OUTPUT_BYTES' },
  ])('max $max, disk request $disk -> $bytes ($source)', ({ max, disk, bytes, source }) => {
    expect(outputCapFor(max, disk)).toEqual({ bytes, source });
  });
});

describe('OutputLedger', () => {
  it('counts files received and files being received together', () => {
    const ledger = new OutputLedger('a1', cap(10));
    ledger.reserve('x', 4);
    ledger.fileReceived({ path: 'x', size: 4, sha256: 'h' }, 4);
    ledger.reserve('y', 3); // another stream, still receiving
    expect(ledger.countedBytes).toBe(7);
    expect(() => ledger.reserve('z', 4)).toThrow(/outputs of attempt a1 exceed the cap of 10 bytes/);
  });

  it('refuses every later byte once the cap was passed, whatever the stream', () => {
    const ledger = new OutputLedger('a2', cap(5));
    expect(() => ledger.reserve('x', 6)).toThrow();
    expect(ledger.refusal).toMatch(/exceed the cap of 5 bytes/);
    expect(() => ledger.reserve('y', 1)).toThrow(ledger.refusal);
  });

  it('counts a file received again under its path once', () => {
    const ledger = new OutputLedger('a3', cap(10));
    for (const size of [8, 9, 6]) {
      ledger.reserve('same', size);
      ledger.fileReceived({ path: 'same', size, sha256: String(size) }, size);
    }
    expect(ledger.countedBytes).toBe(6);
    expect(ledger.files()).toEqual([{ path: 'same', size: 6, sha256: '6' }]);
  });

  it('gives back the bytes of a file dropped half-way', () => {
    const ledger = new OutputLedger('a4', cap(10));
    ledger.reserve('x', 9);
    ledger.release(9);
    expect(ledger.countedBytes).toBe(0);
    ledger.reserve('y', 10);
  });

  it('starts from what an earlier run of the master received', () => {
    const ledger = new OutputLedger('a5', cap(10), { files: [{ path: 'x', size: 8, sha256: 'h' }] });
    expect(() => ledger.reserve('y', 3)).toThrow(/exceed the cap/);
    const refused = new OutputLedger('a6', cap(10), { refusal: 'earlier refusal' });
    expect(() => refused.reserve('y', 1)).toThrow('earlier refusal');
  });
});
