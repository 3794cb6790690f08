import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigFile, configPath } from './config-file.js';
import { CliError } from './errors.js';
import { normaliseServer, resolveTarget } from './target.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-config-'));
  dirs.push(dir);
  return dir;
}

describe('the config file', () => {
  it('lives in ~/.config/wharf (or XDG_CONFIG_HOME, or WHARF_CONFIG)', () => {
    expect(configPath({}, '/home/ada')).toBe('/home/ada/.config/wharf/config.json');
    expect(configPath({ XDG_CONFIG_HOME: '/xdg' }, '/home/ada')).toBe('/xdg/wharf/config.json');
    expect(configPath({ WHARF_CONFIG: '/etc/w.json' }, '/home/ada')).toBe('/etc/w.json');
  });

  it('is written with mode 0600 in a 0700 folder and read back', () => {
    const home = tempHome();
    const file = new ConfigFile(configPath({}, home));
    expect(file.load()).toEqual({ contexts: {} });
    const config = { current: 'a', contexts: { a: { server: 'http://a:8080', token: 'secret', user: 'ada@example.com' } } };
    file.save(config);
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'wharf')).mode & 0o777).toBe(0o700);
    expect(file.load()).toEqual(config);
    // a file made readable by others is tightened on the next write
    chmodSync(file.path, 0o644);
    file.save({ ...config, current: 'a' });
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
  });

  it('says which file is broken and how to recover', () => {
    const home = tempHome();
    const file = new ConfigFile(join(home, 'config.json'));
    writeFileSync(file.path, '{not json');
    expect(() => file.load()).toThrow(CliError);
    expect(() => file.load()).toThrow(`${file.path}: not valid JSON; fix it, or delete it and log in again`);
    writeFileSync(file.path, JSON.stringify({ contexts: { a: { token: 'x' } } }));
    expect(() => file.load()).toThrow('context "a" has no "server"');
    expect(readFileSync(file.path, 'utf8')).toContain('"token"');
  });
});

describe('the master in effect', () => {
  const config = {
    current: 'prod',
    contexts: {
      prod: { server: 'https://prod:8080', token: 'prod-token', caCert: '-----BEGIN CERTIFICATE-----\nx' },
      dev: { server: 'http://localhost:8080', token: 'dev-token' },
    },
  };

  it('is the current context, or the one named by --context or WHARF_CONTEXT', () => {
    expect(resolveTarget(config, {}, undefined)).toEqual({ contextName: 'prod', server: 'https://prod:8080', token: 'prod-token', caCert: config.contexts.prod.caCert });
    expect(resolveTarget(config, { WHARF_CONTEXT: 'dev' }, undefined)?.token).toBe('dev-token');
    expect(resolveTarget(config, { WHARF_CONTEXT: 'dev' }, 'prod')?.token).toBe('prod-token');
    expect(() => resolveTarget(config, {}, 'nope')).toThrow('no context named "nope" (known: prod, dev)');
    expect(resolveTarget({ contexts: {} }, {}, undefined)).toBeUndefined();
  });

  it('takes WHARF_URL and WHARF_TOKEN over the context, and never sends a context\'s token to another server', () => {
    expect(resolveTarget(config, { WHARF_TOKEN: 'ci' }, undefined)?.token).toBe('ci');
    expect(resolveTarget(config, { WHARF_URL: 'https://prod:8080/' }, undefined)?.token).toBe('prod-token');
    const elsewhere = resolveTarget(config, { WHARF_URL: 'evil.example:8080' }, undefined);
    expect(elsewhere).toEqual({ server: 'http://evil.example:8080' });
    expect(resolveTarget(config, { WHARF_URL: 'evil.example:8080', WHARF_TOKEN: 't' }, undefined)).toEqual({ server: 'http://evil.example:8080', token: 't' });
  });

  it('normalises server URLs and refuses what is not one', () => {
    expect(normaliseServer('localhost:8080')).toBe('http://localhost:8080');
    expect(normaliseServer('https://wharf.example/')).toBe('https://wharf.example');
    expect(normaliseServer('https://proxy.example/wharf/')).toBe('https://proxy.example/wharf');
    expect(() => normaliseServer('ftp://x')).toThrow('only http:// and https://');
    expect(() => normaliseServer('http://ada:pw@x')).toThrow('put no credentials in the URL');
  });
});
