import { describe, expect, it } from 'vitest';
import type { ReportedFile } from '../records/output-file.js';
import { verifyReportedFiles, type ReceivedOutputs } from './verify-reported-files.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const received: ReceivedOutputs = {
  files: [
    { path: 'out/x.txt', size: 3, sha256: A },
    { path: 'y.bin', size: 10, sha256: B },
  ],
};

interface Case {
  name: string;
  received?: ReceivedOutputs;
  claimed: ReportedFile[];
  files: string[];
  failure?: RegExp;
}

const cases: Case[] = [
  { name: 'every file as received', claimed: [{ path: 'out/x.txt', size: 3, sha256: A }, { path: 'y.bin', size: 10, sha256: B }], files: ['out/x.txt', 'y.bin'] },
  { name: 'an upper-case digest', claimed: [{ path: 'out/x.txt', size: 3, sha256: A.toUpperCase() }], files: ['out/x.txt'] },
  { name: 'a path spelled another way', claimed: [{ path: 'out/./x.txt', size: 3, sha256: A }], files: ['out/x.txt'] },
  { name: 'no files at all', claimed: [], files: [] },
  {
    name: 'a forged digest',
    claimed: [{ path: 'out/x.txt', size: 3, sha256: B }],
    files: ['out/x.txt', 'y.bin'],
    failure: new RegExp(`file out/x.txt: the result claims 3 bytes with sha256 ${B}, the master received 3 bytes with sha256 ${A}`),
  },
  {
    name: 'a forged size',
    claimed: [{ path: 'y.bin', size: 11, sha256: B }],
    files: ['out/x.txt', 'y.bin'],
    failure: /file y.bin: the result claims 11 bytes .* the master received 10 bytes/,
  },
  {
    name: 'a file that never arrived',
    claimed: [{ path: 'ghost.txt', size: 1, sha256: A }],
    files: ['out/x.txt', 'y.bin'],
    failure: /file ghost.txt is listed in the result \(1 bytes, sha256 a+\) but never arrived/,
  },
  {
    name: 'a path that leaves the task folder',
    claimed: [{ path: '../escape', size: 1, sha256: A }],
    files: ['out/x.txt', 'y.bin'],
    failure: /invalid file \(path: "..\/escape" contains ".."\)/,
  },
  {
    name: 'a listed file when nothing was uploaded',
    received: { files: [] },
    claimed: [{ path: 'out/x.txt', size: 3, sha256: A }],
    files: [],
    failure: /never arrived/,
  },
  {
    name: 'outputs over the cap, whatever the claim',
    received: { files: received.files, refusal: 'outputs of attempt a exceed the cap of 8 bytes' },
    claimed: [{ path: 'out/x.txt', size: 3, sha256: A }],
    files: ['out/x.txt', 'y.bin'],
    failure: /^outputs of attempt a exceed the cap of 8 bytes$/,
  },
  {
    name: 'many problems, three spelled out',
    claimed: ['1', '2', '3', '4', '5'].map((p) => ({ path: p, size: 1, sha256: A })),
    files: ['out/x.txt', 'y.bin'],
    failure: /file 3 is listed.*; and 2 more$/,
  },
];

describe('verifyReportedFiles', () => {
  it.each(cases)('$name', (c) => {
    const verdict = verifyReportedFiles(c.received ?? received, c.claimed);
    expect(verdict.files.map((f) => f.path)).toEqual(c.files);
    // the records are always the master's: a claimed digest never gets through
    for (const file of verdict.files) expect((c.received ?? received).files).toContainEqual(file);
    if (c.failure) {
      expect('failure' in verdict && verdict.failure).toMatch(c.failure);
    } else {
      expect(verdict).not.toHaveProperty('failure');
    }
  });
});
