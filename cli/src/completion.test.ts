import { describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.js';
import { complete, type CompletionSources } from './completion.js';

/** A fake master and config for the completer: fixed lists, and a record of what was asked. */
function fakeSources(): CompletionSources & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    contexts: () => ['prod', 'dev'],
    async fromMaster(kind) {
      asked.push(kind);
      return { task: ['3f2a9c1e-0000-4000-8000-000000000000'], worker: ['gpu-box-1'], dag: ['d1'], dagName: ['etl'], token: ['ci'], joinToken: ['wharf_k3x9q2'], queue: ['gpu-train'] }[kind];
    },
  };
}

describe('shell completion', () => {
  it('offers the commands, then a group\'s subcommands', async () => {
    const top = await complete([''], COMMANDS, fakeSources());
    expect(top).toEqual(expect.arrayContaining(['run', 'ls', 'logs', 'login', 'dag', 'token', 'context', 'completion']));
    expect(top).not.toContain('__complete');
    expect(await complete(['dag', ''], COMMANDS, fakeSources())).toEqual(['run', 'ls', 'get', 'metrics', 'cancel', 'retry', 'rerun']);
    expect(await complete(['token', ''], COMMANDS, fakeSources())).toEqual(['create', 'ls', 'revoke']);
    expect(top).toEqual(expect.arrayContaining(['worker', 'workers', 'join-token']));
    expect(await complete(['join-token', ''], COMMANDS, fakeSources())).toEqual(['create', 'ls', 'revoke']);
    expect(await complete(['worker', ''], COMMANDS, fakeSources())).toEqual(['rm']);
    expect(await complete(['join-token', 'create', '--'], COMMANDS, fakeSources())).toEqual(['--expires', '--uses', '--description', '--output', '--context', '--help']);
  });

  it('offers a command\'s options, and the values of an option', async () => {
    expect(await complete(['ls', '--'], COMMANDS, fakeSources())).toEqual(['--all', '--status', '--worker', '--user', '--queue', '--dag', '--image', '--name', '--since', '--limit', '--output', '--context', '--help']);
    expect(await complete(['ls', '--status', ''], COMMANDS, fakeSources())).toContain('failed');
    expect(await complete(['get', '-o', ''], COMMANDS, fakeSources())).toEqual(['table', 'json', 'yaml']);
    expect(await complete(['--context', ''], COMMANDS, fakeSources())).toEqual(['prod', 'dev']);
    expect(await complete(['run', '--runtime', ''], COMMANDS, fakeSources())).toEqual(['docker', 'kubernetes', 'exec']);
  });

  it('asks the master for ids and names where an argument is one', async () => {
    const sources = fakeSources();
    expect(await complete(['logs', '-f', ''], COMMANDS, sources)).toEqual(['3f2a9c1e-0000-4000-8000-000000000000']);
    expect(await complete(['drain', ''], COMMANDS, sources)).toEqual(['gpu-box-1']);
    expect(await complete(['cancel', 'a', 'b', ''], COMMANDS, sources)).toEqual(['3f2a9c1e-0000-4000-8000-000000000000']);
    expect(await complete(['dag', 'metrics', ''], COMMANDS, sources)).toEqual(['etl']);
    expect(await complete(['token', 'revoke', ''], COMMANDS, sources)).toEqual(['ci']);
    expect(await complete(['context', 'use', ''], COMMANDS, sources)).toEqual(['prod', 'dev']);
    expect(await complete(['completion', ''], COMMANDS, sources)).toEqual(['bash', 'zsh']);
    expect(await complete(['join-token', 'revoke', 'wharf_a', ''], COMMANDS, sources)).toEqual(['wharf_k3x9q2']);
    expect(await complete(['worker', 'rm', ''], COMMANDS, sources)).toEqual(['gpu-box-1']);
    expect(await complete(['queue', 'get', ''], COMMANDS, sources)).toEqual(['gpu-train']);
    expect(await complete(['run', '--queue', ''], COMMANDS, sources)).toEqual(['gpu-train']);
    expect(sources.asked).toEqual(['task', 'worker', 'task', 'dagName', 'token', 'joinToken', 'worker', 'queue', 'queue']);
  });

  it('offers nothing (the shell completes file names) for a file argument or an unknown command', async () => {
    const sources = fakeSources();
    expect(await complete(['dag', 'run', ''], COMMANDS, sources)).toEqual([]);
    expect(await complete(['frobnicate', ''], COMMANDS, sources)).toEqual([]);
    expect(await complete(['run', 'wharf/busybox', ''], COMMANDS, sources)).toEqual([]);
    expect(sources.asked).toEqual([]);
  });
});
