import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMasterConfig } from './config/master-config.js';
import { createLogger } from './logger.js';

/** A destination that keeps what the logger wrote. */
function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

const realIsTTY = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
afterEach(() => {
  if (realIsTTY) Object.defineProperty(process.stdout, 'isTTY', realIsTTY);
  else delete (process.stdout as { isTTY?: boolean }).isTTY;
});

describe('master logger', () => {
  it('writes JSON lines with the component, worker, task and attempt of a child logger', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', pretty: false, destination: out.stream });
    logger.child({ component: 'tasks' }).child({ workerId: 'w1', taskId: 't1', attemptId: 'a1' }).info('attempt started');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ name: 'wharf-master', level: 30, component: 'tasks', workerId: 'w1', taskId: 't1', attemptId: 'a1', msg: 'attempt started' });
  });

  it('drops lines below the level that WHARF_LOG_LEVEL sets', () => {
    const config = loadMasterConfig([], { WHARF_LOG_LEVEL: 'warn' });
    expect(config.logLevel).toBe('warn');
    const out = capture();
    const logger = createLogger({ level: config.logLevel, pretty: false, destination: out.stream });
    logger.info('not shown');
    logger.warn('shown');
    const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('refuses an unknown WHARF_LOG_LEVEL at start', () => {
    expect(() => loadMasterConfig([], { WHARF_LOG_LEVEL: 'loud' })).toThrow(/WHARF_LOG_LEVEL/);
  });

  it('is human-readable on a terminal and JSON when stdout is not one', () => {
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    const tty = capture();
    createLogger({ level: 'info', destination: tty.stream }).child({ workerId: 'w9' }).info('worker registered');
    expect(tty.text()).toContain('worker registered');
    expect(tty.text()).toContain('w9');
    expect(() => JSON.parse(tty.text().trim())).toThrow();

    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    const pipe = capture();
    createLogger({ level: 'info', destination: pipe.stream }).info('worker registered');
    expect(JSON.parse(pipe.text().trim())).toMatchObject({ msg: 'worker registered' });
  });
});
