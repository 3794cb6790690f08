import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHistory, saveHistory } from './history.js';

describe('REPL history file', () => {
  it('keeps the newest commands, oldest first on disk, private to the owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-history-'));
    try {
      const file = join(dir, 'repl_history');
      expect(loadHistory(file)).toEqual([]);
      saveHistory(file, ['c', 'b', 'a'], 2); // readline order: newest first
      expect(readFileSync(file, 'utf8')).toBe('b\nc\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadHistory(file)).toEqual(['c', 'b']);
      expect(loadHistory(file, 1)).toEqual(['c']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
