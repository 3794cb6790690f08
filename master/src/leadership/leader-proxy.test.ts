import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FORWARDED_HEADER, LeaderProxy, mustForward } from './leader-proxy.js';
import type { LeaderAddress } from './leadership.js';

const servers: import('node:http').Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

async function serve(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('LeaderProxy', () => {
  it('forwards writes and live reads with the user\'s headers, serves stored reads itself, and answers no_leader without a leader', async () => {
    // the "leader": echoes what reached it
    const leaderApp = express();
    leaderApp.use(express.json());
    leaderApp.all('/{*path}', (req, res) => {
      res.status(201).json({ method: req.method, path: req.path, authorization: req.headers.authorization, forwardedBy: req.headers[FORWARDED_HEADER], body: req.body as unknown });
    });
    const leaderUrl = await serve(leaderApp);
    let leader: LeaderAddress | undefined = { address: 'l:1', httpUrl: leaderUrl, epoch: 3 };
    const proxy = new LeaderProxy({ gate: { isLeader: () => false, leader: () => leader }, self: () => 'http://standby', ca: [], logger: pino({ level: 'silent' }) });
    const standbyApp = express();
    standbyApp.use(proxy.middleware());
    standbyApp.get('/{*path}', (_req, res) => void res.json({ servedBy: 'standby' }));
    const standby = await serve(standbyApp);

    const write = await fetch(`${standby}/api/tasks`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify({ image: 'x' }) });
    expect(write.status).toBe(201);
    expect(await write.json()).toEqual({ method: 'POST', path: '/api/tasks', authorization: 'Bearer t', forwardedBy: 'http://standby', body: { image: 'x' } });
    expect(await (await fetch(`${standby}/api/workers`)).json()).toMatchObject({ method: 'GET', path: '/api/workers' });
    expect(await (await fetch(`${standby}/api/tasks/abc`)).json()).toEqual({ servedBy: 'standby' });

    // already forwarded once: not again (two masters that each think the other leads)
    const loop = await fetch(`${standby}/api/tasks`, { method: 'POST', headers: { [FORWARDED_HEADER]: 'http://other' } });
    expect(loop.status).toBe(503);
    leader = undefined;
    const none = await fetch(`${standby}/api/tasks`, { method: 'DELETE' });
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('2');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_leader');
  });

  it('forwards what only the leader knows', () => {
    expect(mustForward('POST', '/api/auth/login')).toBe(true);
    expect(mustForward('GET', '/api/queues/default')).toBe(true);
    expect(mustForward('GET', '/telemetry')).toBe(true);
    expect(mustForward('GET', '/api/tasks/x/logs')).toBe(true);
    expect(mustForward('GET', '/api/tasks')).toBe(false);
    expect(mustForward('GET', '/api/dags/x')).toBe(false);
    expect(mustForward('HEAD', '/health')).toBe(false);
  });
});
