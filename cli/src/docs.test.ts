import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the CLI\'s docs match its commands', () => {
  it('docs/CLI.md shows every command with every one of its options', () => {
    const doc = read('docs/CLI.md');
    for (const command of COMMANDS.filter((c) => !c.hidden && !['help', 'version', 'completion'].includes(c.name))) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`wharf ${command.name}`) || line.includes(`\`wharf ${command.name} [`));
      if (command.name === 'run') {
        for (const option of command.options) expect(doc, `run --${option.name}`).toContain(`\`--${option.name}`);
        continue;
      }
      expect(row, `a table row for wharf ${command.name}`).toBeDefined();
      for (const option of command.options) expect(row, `wharf ${command.name} --${option.name}`).toMatch(new RegExp(`--${option.name}\\b|-${option.short ?? '#'}\\b`));
    }
    expect(doc).toContain('wharf completion bash');
  });

  it('the README has the "From your laptop" section with login and run', () => {
    const readme = read('README.md');
    expect(readme).toContain('## From your laptop');
    expect(readme).toContain('wharf login http://');
    expect(readme).toContain("wharf run wharf/busybox -- sh -c 'echo hi; exit 3'");
  });
});
