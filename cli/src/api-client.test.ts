// Several masters from the CLI: WHARF_URL (or a saved context) as a comma list; a request moves
// on to the next master when one is down or has no leader, and follows a redirect only to a
// master of the list. Plain HTTP servers on loopback play the masters.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ApiClient } from './api-client.js';
import { followTaskLog } from './log-follower.js';
import { resolveTarget } from './target.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A master that answers every request with `answer` and records what it got. */
async function master(answer: (res: ServerResponse, req: IncomingMessage) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      answer(res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** An address where nothing listens (a master that is down). */
async function downMaster(): Promise<string> {
  const { url } = await master(() => undefined);
  const server = servers.pop()!;
  await new Promise((resolve) => server.close(resolve));
  return url;
}

const json = (status: number, body: unknown) => (res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const noLeader = json(503, { error: { code: 'no_leader', message: 'no master leads right now (an election is on)' } });

describe('ApiClient with several masters', () => {
  it('takes WHARF_URL as a comma list', () => {
    expect(resolveTarget({ contexts: {} }, { WHARF_URL: 'm1:8080, https://m2:8080/', WHARF_TOKEN: 't' }, undefined)).toEqual({
      server: 'http://m1:8080,https://m2:8080',
      token: 't',
    });
  });

  it('goes to the next master when one refuses the connection or has no leader, a write included, and stays with the one that answered', async () => {
    const down = await downMaster();
    const electing = await master(noLeader);
    const leader = await master(json(201, { id: 't1' }));
    const client = new ApiClient({ server: `${down},${electing.url},${leader.url}`, token: 'secret' });
    expect(await client.request('POST', '/api/tasks', { json: { image: 'busybox' } })).toEqual({ id: 't1' });
    expect(electing.seen).toHaveLength(1);
    expect(leader.seen).toEqual([{ method: 'POST', url: '/api/tasks', authorization: 'Bearer secret', body: '{"image":"busybox"}' }]);
    expect(client.server).toBe(leader.url);
    await client.get('/api/tasks');
    expect(electing.seen).toHaveLength(1); // the next request went straight to the one that answered
    expect(leader.seen).toHaveLength(2);
  });

  it('says why the last master failed when none could take the request', async () => {
    const down = await downMaster();
    const electing = await master(noLeader);
    const client = new ApiClient({ server: `${electing.url},${down}`, token: 't' });
    await expect(client.get('/api/tasks')).rejects.toThrow(`cannot reach ${down}: connection refused`);
  });

  it('does not send a request again elsewhere after a master answered it with an error', async () => {
    const refusing = await master(json(400, { error: { code: 'validation_failed', message: 'image: required' } }));
    const other = await master(json(201, {}));
    const client = new ApiClient({ server: `${refusing.url},${other.url}`, token: 't' });
    await expect(client.request('POST', '/api/tasks', { json: {} })).rejects.toThrow('image: required');
    expect(other.seen).toEqual([]);
  });

  it('follows a 307 to a master of the list, with the same request, and no redirect elsewhere', async () => {
    const leader = await master(json(201, { id: 'd1' }));
    const stranger = await master(json(201, { id: 'stolen' }));
    const toLeader = await master((res, req) => {
      res.writeHead(307, { location: `${leader.url}${req.url ?? ''}` });
      res.end();
    });
    const client = new ApiClient({ server: `${toLeader.url},${leader.url}`, token: 'secret' });
    expect(await client.request('POST', '/api/dags', { json: { name: 'x' } })).toEqual({ id: 'd1' });
    expect(leader.seen).toEqual([{ method: 'POST', url: '/api/dags', authorization: 'Bearer secret', body: '{"name":"x"}' }]);

    const toStranger = await master((res) => {
      res.writeHead(307, { location: `${stranger.url}/api/dags` });
      res.end();
    });
    const guarded = new ApiClient({ server: `${toStranger.url},${leader.url}`, token: 'secret' });
    await expect(guarded.request('POST', '/api/dags', { json: {} })).rejects.toThrow('not one of the masters given; not following it');
    expect(stranger.seen).toEqual([]);
  });

  it('follows a task log on the next master when the stream cannot open on the first', async () => {
    const down = await downMaster();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const paths: string[] = [];
    wss.on('connection', (socket, req) => {
      paths.push(req.url ?? '');
      socket.send(JSON.stringify({ type: 'log', attemptId: 'a1', attempt: 1, stream: 'stdout', data: 'hi\n' }));
      socket.send(JSON.stringify({ type: 'complete', status: 'succeeded', exitCode: 0 }));
    });
    try {
      const up = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
      const client = new ApiClient({ server: `${down},${up}`, token: 't' });
      const chunks: string[] = [];
      const end = await followTaskLog(client, 'task-1', { onChunk: (chunk) => chunks.push(chunk.data), reconnectDelaysMs: [10, 10] });
      expect(end).toEqual({ status: 'succeeded', exitCode: 0 });
      expect(chunks).toEqual(['hi\n']);
      expect(paths).toEqual(['/ws/tasks/task-1/logs']);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
