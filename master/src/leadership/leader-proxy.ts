// People follow the leader: every master serves the dashboard and the REST reads that come from
// the store; what only the leader can answer is forwarded to it, over its advertised HTTP
// address, keeping the user's headers (their token or session cookie) and body:
//   - every request that changes state (any method but GET and HEAD);
//   - the reads of live, in-memory state a standby does not have: the worker registry
//     (/api/workers…, /api/cluster/stats), queue status and positions (/api/queues…), worker
//     telemetry (/telemetry), and the files only the leader's disk may hold (task logs, output
//     downloads);
//   - WebSocket upgrades (/ws/…): the live feeds come from the leader's systems.
// A standby with no known leader (the lease ran out and nobody took it yet) answers 503
// {"error":{"code":"no_leader"}} with Retry-After. A request a master already forwarded is not
// forwarded again (two masters that each think the other leads answer no_leader instead).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.js';
import type { LeaderAddress } from './leadership.js';

/** What the proxy asks the leadership. */
export interface LeaderGate {
  isLeader(): boolean;
  leader(): LeaderAddress | undefined;
}

/** Set on a forwarded request; a master does not forward a request that carries it. */
export const FORWARDED_HEADER = 'x-wharf-forwarded-by';
const RETRY_AFTER_SECONDS = 2;

/** GET paths whose answer comes from the leader's memory or disk (see the header). */
const LIVE_READS = [/^\/api\/workers(\/|$)/, /^\/api\/cluster\/stats$/, /^\/api\/queues(\/|$)/, /^\/telemetry$/, /^\/api\/tasks\/[^/]+\/logs$/, /^\/api\/files\/[^/]+\/download\//];

export function mustForward(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true;
  return LIVE_READS.some((pattern) => pattern.test(path));
}

export interface LeaderProxyOptions {
  gate: LeaderGate;
  /** this master's advertised HTTP URL (named in the forwarded-by header) */
  self: () => string;
  /** CAs the leader's HTTPS certificate may be signed by (the cluster's serving CA) besides the public ones */
  ca: string[];
  logger: Logger;
}

export class LeaderProxy {
  constructor(private readonly options: LeaderProxyOptions) {}

  /** Express middleware, first in the app: forwards what a standby cannot answer itself. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (this.options.gate.isLeader() || !mustForward(req.method, req.path)) {
        next();
        return;
      }
      this.forward(req, res);
    };
  }

  /** The server's 'upgrade' listener on a standby: relays the WebSocket to the leader. Answers false when this master leads (handle it here). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.options.gate.isLeader()) return false;
    const leader = this.target(req);
    if (typeof leader === 'string') {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return true;
    }
    const upstream = this.request(req, leader);
    upstream.on('upgrade', (response: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      const lines = [`HTTP/1.1 ${response.statusCode ?? 101} ${response.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < response.rawHeaders.length; i += 2) lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      upstreamSocket.pipe(socket).pipe(upstreamSocket);
      const end = () => {
        upstreamSocket.destroy();
        socket.destroy();
      };
      upstreamSocket.on('error', end);
      socket.on('error', end);
      upstreamSocket.on('close', end);
      socket.on('close', end);
    });
    upstream.on('response', (response: IncomingMessage) => {
      // refused by the leader (401, 404…): passed on as it is
      const lines = [`HTTP/1.1 ${response.statusCode ?? 502} ${response.statusMessage ?? ''}`, 'Connection: close'];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      response.pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    if (head.length > 0) upstream.write(head);
    upstream.end();
    return true;
  }

  private forward(req: Request, res: Response): void {
    const leader = this.target(req);
    if (typeof leader === 'string') {
      noLeader(res, leader);
      return;
    }
    const upstream = this.request(req, leader);
    upstream.on('response', (response: IncomingMessage) => {
      res.writeHead(response.statusCode ?? 502, response.rawHeaders);
      response.pipe(res);
    });
    upstream.on('error', (error: Error) => {
      this.options.logger.warn({ err: error, leader: leader.httpUrl }, 'forwarding to the leader failed');
      if (!res.headersSent) noLeader(res, `the leader at ${leader.httpUrl} did not answer (${error.message}); try again`);
      else res.destroy();
    });
    req.pipe(upstream);
  }

  /** The leader to forward to, or why there is none. */
  private target(req: IncomingMessage): LeaderAddress | string {
    if (req.headers[FORWARDED_HEADER] !== undefined) {
      return 'no master leads yet (this request was already forwarded by another master that does not lead either); try again';
    }
    const leader = this.options.gate.leader();
    return leader ?? 'no master leads right now (a failover is under way); try again in a few seconds';
  }

  private request(req: IncomingMessage, leader: LeaderAddress) {
    const url = new URL(req.url ?? '/', leader.httpUrl);
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: url.host, [FORWARDED_HEADER]: this.options.self() };
    const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter((part) => part !== undefined).join(', ');
    if (forwardedFor !== '') headers['x-forwarded-for'] = forwardedFor;
    const options = { method: req.method, headers };
    return url.protocol === 'https:'
      ? httpsRequest(url, { ...options, ca: [...this.options.ca, ...rootCertificates] })
      : httpRequest(url, options);
  }
}

function noLeader(res: ServerResponse, message: string): void {
  res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': String(RETRY_AFTER_SECONDS) });
  res.end(JSON.stringify({ error: { code: 'no_leader', message } }));
}
