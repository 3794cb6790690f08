import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.js';
import type { CliIo } from './io.js';
import { runCli } from './run-cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command line offline, with its own HOME, capturing stdout and stderr. */
async function wharf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'wharf-cli-run-'));
  dirs.push(home);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env,
    cwd: home,
    homedir: home,
    now: () => Date.now(),
    onSignal: () => () => undefined,
  };
  const code = await runCli(args, io);
  return { code, stdout: out, stderr: err };
}

describe('wharf without a master', () => {
  it('prints its help and version', async () => {
    const help = await wharf(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: wharf [--context NAME] COMMAND');
    for (const name of ['run', 'submit', 'ls', 'get', 'logs', 'cancel', 'files', 'cp', 'dag run', 'workers', 'drain', 'worker rm', 'join-token create', 'join-token ls', 'join-token revoke', 'login', 'token create', 'completion']) {
      expect(help.stdout).toContain(`  ${name}`);
    }
    expect((await wharf([])).stdout).toBe(help.stdout);
    expect((await wharf(['--version'])).stdout).toMatch(/^wharf 0\.1\.0 \(node v\d+/);
  });

  it('has complete help for every command: usage, options, and the global ones', async () => {
    for (const command of COMMANDS.filter((c) => !c.hidden)) {
      const help = await wharf([...command.name.split(' '), '--help']);
      expect(help.code, command.name).toBe(0);
      expect(help.stdout, command.name).toContain(`Usage: wharf ${command.usage}`);
      for (const option of command.options) expect(help.stdout, `${command.name} --${option.name}`).toContain(`--${option.name}`);
      expect(help.stdout).toContain('--context NAME');
      expect((await wharf(['help', ...command.name.split(' ')])).stdout).toBe(help.stdout);
    }
    expect((await wharf(['dag'])).stdout).toContain('Usage: wharf dag COMMAND');
  });

  it('answers a usage error with exit 2 and a hint to the help', async () => {
    const unknown = await wharf(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('wharf: unknown command "frobnicate"');
    const option = await wharf(['ls', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("wharf ls: unknown option --bogus");
    expect(option.stderr).toContain("Run 'wharf ls --help' for usage.");
    expect((await wharf(['run'])).code).toBe(2);
    expect((await wharf(['ls', '-o', 'xml'])).stderr).toContain('-o takes table, json, yaml (got "xml")');
    expect((await wharf(['dag', 'frob'])).code).toBe(2);
    expect((await wharf(['completion', 'fish'])).code).toBe(2);
  });

  it('says how to log in when no master is known, with exit 1', async () => {
    const ls = await wharf(['ls']);
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain('log in first: wharf login http://MASTER:8080');
    expect(ls.stderr).toContain('[not_logged_in]');
    const login = await wharf(['login', 'http://127.0.0.1:9', '--email', 'a@b.c']);
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('no terminal to ask for the password on');
  });

  it('says plainly when the master cannot be reached', async () => {
    const ls = await wharf(['ls'], { WHARF_URL: 'http://127.0.0.1:9', WHARF_TOKEN: 'x' });
    expect(ls.code).toBe(1);
    expect(ls.stderr).toContain('cannot reach http://127.0.0.1:9: connection refused');
  });

  it('prints the completion scripts', async () => {
    expect((await wharf(['completion', 'bash'])).stdout).toContain('complete -o default -F _wharf_complete wharf');
    expect((await wharf(['completion', 'zsh'])).stdout).toContain('#compdef wharf');
  });
});
