import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config/worker-config.js';
import { createWorkerLogger } from './logger.js';

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

describe('worker logger', () => {
  it('writes JSON lines carrying workerId, component, taskId and attemptId from child loggers', () => {
    const out = capture();
    const root = createWorkerLogger({ level: 'debug', pretty: false, destination: out.stream });
    root.child({ workerId: 'w1' }).child({ component: 'session' }).child({ taskId: 't1', attemptId: 'a1' }).debug('container started');
    expect(JSON.parse(out.text().trim())).toMatchObject({
      service: 'wharf-worker',
      level: 20,
      workerId: 'w1',
      component: 'session',
      taskId: 't1',
      attemptId: 'a1',
      msg: 'container started',
    });
  });

  it('takes its level from WHARF_LOG_LEVEL', () => {
    const config = loadWorkerConfig(['--master', 'localhost:50051', '--token', 'wharf_0123456789abcdef'], { WHARF_LOG_LEVEL: 'error' });
    expect(config.logLevel).toBe('error');
    const out = capture();
    const logger = createWorkerLogger({ level: config.logLevel, pretty: false, destination: out.stream });
    logger.warn('hidden');
    logger.error('visible');
    expect(out.text().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['visible']);
  });

  it('is human-readable on a terminal and JSON otherwise', () => {
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    const tty = capture();
    createWorkerLogger({ level: 'info', destination: tty.stream }).info('worker started');
    expect(tty.text()).toContain('worker started');
    expect(() => JSON.parse(tty.text().trim())).toThrow();

    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    const pipe = capture();
    createWorkerLogger({ level: 'info', destination: pipe.stream }).info('worker started');
    expect(JSON.parse(pipe.text().trim())).toMatchObject({ msg: 'worker started' });
  });
});
