// The REPL's command history, kept in the data dir (one command a line, oldest first, like a
// shell's history file) and bounded. Mode 0600: commands can carry env values.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const HISTORY_SIZE = 1000;

/** Newest first, as readline wants it. A missing or unreadable file is an empty history. */
export function loadHistory(file: string, max = HISTORY_SIZE): string[] {
  if (!existsSync(file)) return [];
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
    return lines.slice(-max).reverse();
  } catch {
    return [];
  }
}

/** `history` newest first (readline's order); keeps the newest `max`. */
export function saveHistory(file: string, history: readonly string[], max = HISTORY_SIZE): void {
  const lines = history.slice(0, max).reverse();
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  renameSync(temp, file);
}
