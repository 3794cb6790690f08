import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority, importSigningKey, issueServerCertificate } from '../pki/certificates.js';
import { JoinKit, oneLineJoinCommand, publicKeyPin, renderJoinScript, shellWord, type JoinScriptValues } from './join-kit.js';

const TEMPLATE = readFileSync(new URL('../../../worker/join/join.sh', import.meta.url), 'utf8');
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-join-kit-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const values: JoinScriptValues = {
  url: 'https://m.example:8080',
  grpcAddress: 'm.example:50051',
  caHash: `sha256:${'ab'.repeat(32)}`,
  pin: 'sha256//3C/apsqZOCikAt7LjCSwlG3O9RcrC83Hkz8aK9VhcPQ=',
  bundleSha256: 'cd'.repeat(32),
  bundleVersion: '0.1.0',
};

describe('join.sh', () => {
  it('is filled in with each value as one literal shell word, whatever it holds', () => {
    const dir = tempDir();
    const marker = join(dir, 'pwned');
    const hostile = `https://x'$(touch ${marker})'\`touch ${marker}\`;"$HOME"`;
    const script = renderJoinScript(TEMPLATE, { ...values, url: hostile });
    expect(script).not.toMatch(/@[A-Z_]+@/);
    writeFileSync(join(dir, 'join.sh'), script);
    const help = spawnSync('sh', [join(dir, 'join.sh'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stderr).toContain(`${hostile}/join.sh`);
    expect(help.stderr).toContain(`default: ${values.caHash}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a template that lacks a value it must announce', () => {
    expect(() => renderJoinScript(TEMPLATE.replace('BUNDLE_SHA256=@BUNDLE_SHA256@', ''), values)).toThrow(/no @BUNDLE_SHA256@/);
  });

  it('refuses a --ca-hash other than the one its master announces, before downloading anything', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'join.sh'), renderJoinScript(TEMPLATE, values));
    const run = spawnSync('sh', [join(dir, 'join.sh'), '--token', 'wharf_abc.0123456789abcdef', '--ca-hash', `sha256:${'ef'.repeat(32)}`], {
      env: { PATH: process.env.PATH, HOME: dir },
      encoding: 'utf8',
    });
    const { status, stderr: output } = run;
    expect(status).toBe(1);
    expect(output).toContain(`has the CA ${values.caHash}, but --ca-hash pins sha256:${'ef'.repeat(32)}`);
    expect(existsSync(join(dir, '.wharf'))).toBe(false);
  });

  it('stops before downloading anything when Node is missing or older than 20.19, and says how to get it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'join.sh'), renderJoinScript(TEMPLATE, values));
    // a fake node that reports an old version (the script asks `node -p process.versions.node`)
    const fakeNode = join(dir, 'fake-node-18');
    writeFileSync(fakeNode, '#!/bin/sh\necho 18.19.0\n', { mode: 0o755 });
    const old = spawnSync('sh', [join(dir, 'join.sh'), '--token', 'wharf_abc.0123456789abcdef'], {
      env: { PATH: '/usr/bin:/bin', HOME: dir, WHARF_NODE: fakeNode },
      encoding: 'utf8',
    });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain(`Node.js >= 20.19 is needed, ${fakeNode} is 18.19.0`);
    expect(old.stderr).toContain('https://nodejs.org/en/download');
    expect(old.stderr).toContain('nvm install 22');
    // no node on PATH at all (the PATH holds sh and the coreutils only)
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'dirname', 'basename', 'tr', 'cat', 'sed']) symlinkSync(execPathOf(tool), join(bin, tool));
    const none = spawnSync(join(bin, 'sh'), [join(dir, 'join.sh'), '--token', 'wharf_abc.0123456789abcdef'], { env: { PATH: bin, HOME: dir }, encoding: 'utf8' });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('Node.js >= 20.19 is needed and was not found');
    expect(existsSync(join(dir, '.wharf'))).toBe(false);
  });
});

/** Where `tool` is on this machine's PATH. */
function execPathOf(tool: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${tool} is not on PATH`);
  return found;
}

describe('the worker bundle', () => {
  it('is read with its sha256 and version, read again when the file changes, and missing when not built', async () => {
    const dir = tempDir();
    const kit = new JoinKit(dir);
    expect(await kit.bundle()).toBeUndefined();
    expect(await kit.unavailableReason()).toMatch(/wharf-worker\.mjs is missing\): build it on the master with make build/);
    const first = '#!/usr/bin/env node\n// wharf-worker 1.2.3: the Wharf worker\nconsole.log(1);\n';
    writeFileSync(join(dir, 'wharf-worker.mjs'), first);
    writeFileSync(join(dir, 'join.sh'), TEMPLATE);
    const bundle = await kit.bundle();
    expect(bundle?.version).toBe('1.2.3');
    expect(bundle?.sha256).toBe(createHash('sha256').update(first).digest('hex'));
    expect(await kit.unavailableReason()).toBeUndefined();
    expect(await kit.template()).toBe(TEMPLATE);

    const second = `${first}console.log(2);\n`;
    writeFileSync(join(dir, 'wharf-worker.mjs'), second);
    utimesSync(join(dir, 'wharf-worker.mjs'), new Date(), new Date(Date.now() + 5000));
    expect((await kit.bundle())?.sha256).toBe(createHash('sha256').update(second).digest('hex'));
    rmSync(join(dir, 'join.sh'));
    expect(await kit.unavailableReason()).toMatch(/join\.sh is missing/);
  });
});

describe('the one-line join command', () => {
  it('pins the key of the certificate the server shows (the first of a chain), in curl\'s sha256// form', async () => {
    const ca = await createCertificateAuthority({ commonName: 'ca', validityMs: 3600_000 });
    const server = await issueServerCertificate({ issuerCertPem: ca.certPem, issuerKey: await importSigningKey(ca.keyPem), subjectCommonName: 's', validityMs: 3600_000 });
    const pin = publicKeyPin(server.certPem + ca.certPem);
    const spki = new X509Certificate(server.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(pin).toBe(`sha256//${createHash('sha256').update(spki).digest('base64')}`);
    expect(pin).not.toBe(publicKeyPin(ca.certPem));
    expect(oneLineJoinCommand({ url: 'https://m:8080', pin, token: 'T', caHash: 'sha256:x' })).toBe(
      `curl -fsSL --pinnedpubkey '${pin}' -k https://m:8080/join.sh | sh -s -- --token T --ca-hash sha256:x`,
    );
    expect(oneLineJoinCommand({ url: 'http://127.0.0.1:8080', pin: undefined, token: 'T', caHash: 'sha256:x' })).toBe(
      'curl -fsSL http://127.0.0.1:8080/join.sh | sh -s -- --token T --ca-hash sha256:x',
    );
  });
});
