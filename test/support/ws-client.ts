// WebSocket clients for tests: a well-behaved one (the `ws` package, what the dashboard does)
// that keeps every message, and a raw one on a bare TCP socket that completes the handshake and
// then stops reading, to play a client that cannot keep up.
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { waitFor } from './cluster.js';

export interface LiveMessage {
  type: string;
  [key: string]: unknown;
}

export interface TestSocket {
  ws: WebSocket;
  messages: LiveMessage[];
  /** resolves with the close code and reason */
  closed: Promise<{ code: number; reason: string }>;
  /** waits until a message matches, answers it */
  next(what: string, match: (m: LiveMessage) => boolean, timeoutMs?: number): Promise<LiveMessage>;
  close(): void;
}

/** Opens a socket and waits for the upgrade; rejects with the HTTP status and body when refused. */
export function openSocket(url: string, options: { token?: string; header?: boolean; autoPong?: boolean } = {}): Promise<TestSocket> {
  const headers: Record<string, string> = {};
  let target = url;
  if (options.token && options.header !== false) headers.authorization = `Bearer ${options.token}`;
  else if (options.token) target += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(options.token)}`;
  const ws = new WebSocket(target, { headers, autoPong: options.autoPong ?? true });
  const messages: LiveMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as LiveMessage));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        closed,
        next: (what, match, timeoutMs = 30_000) => waitFor(what, () => messages.find(match), timeoutMs, 20),
        close: () => ws.close(),
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new RefusedUpgrade(res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), body)));
    });
    ws.once('error', (error) => reject(error));
  });
}

export class RefusedUpgrade extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }
}

export interface StalledSocket {
  socket: Socket;
  /** starts reading again; answers every frame the server sent until it closed */
  drain(timeoutMs?: number): Promise<{ texts: LiveMessage[]; closeCode: number | undefined }>;
}

/**
 * A client that completes the WebSocket handshake and then stops reading: its kernel buffers
 * fill and the server's unsent bytes for it grow, as with a client on a stalled network.
 */
export function openStalledSocket(port: number, path: string, token: string): Promise<StalledSocket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    let head = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onHead);
      socket.pause(); // from here on nothing is read
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      if (!status.includes(' 101 ')) {
        reject(new Error(`stalled client: upgrade refused: ${status}`));
        return;
      }
      const rest = head.subarray(end + 4);
      resolve({ socket, drain: (timeoutMs = 60_000) => drainFrames(socket, rest, timeoutMs) });
    };
    socket.on('data', onHead);
  });
}

/** Reads server frames (unmasked) until a close frame or the end of the stream. */
function drainFrames(socket: Socket, initial: Buffer, timeoutMs: number): Promise<{ texts: LiveMessage[]; closeCode: number | undefined }> {
  return new Promise((resolve, reject) => {
    let buffer = initial;
    const texts: LiveMessage[] = [];
    let closeCode: number | undefined;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`stalled client: no close frame within ${timeoutMs}ms (${texts.length} messages read)`)), timeoutMs);
    function finish(error?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ texts, closeCode });
    }
    function parse(): void {
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        if (opcode === 1) texts.push(JSON.parse(payload.toString()) as LiveMessage);
        if (opcode === 8) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
          finish();
          return;
        }
      }
    }
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      parse();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', () => finish());
    parse();
    socket.resume();
  });
}
