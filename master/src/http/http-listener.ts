// The REST API and dashboard listener: plain HTTP, or HTTPS (WebSockets then are wss) on a TCP
// port of our own that looks at the first byte of each connection. A TLS handshake goes to the
// HTTPS server; anything else is a client speaking plain HTTP to the HTTPS port, and gets a
// 400 saying to use https:// instead of a TLS alert it cannot show.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { RequestListener } from 'node:http';
import type { Logger } from '../logger.js';

const TLS_HANDSHAKE = 0x16;
const FIRST_BYTE_TIMEOUT_MS = 30_000;

export interface HttpListener {
  /** the server requests arrive on (WebSocket upgrades attach here) */
  server: http.Server;
  port: number;
  scheme: 'http' | 'https';
  close(): Promise<void>;
}

/** Whether a listen host reaches only this machine (plain HTTP is the default only there). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export async function listenHttp(
  app: RequestListener,
  options: { host: string; port: number; tls?: { certPem: string; keyPem: string } | undefined; logger: Logger },
): Promise<HttpListener> {
  if (!options.tls) {
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    return {
      server,
      port: typeof address === 'object' && address ? address.port : options.port,
      scheme: 'http',
      close: () => closeServer(server),
    };
  }

  const server = https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' }, app);
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const drop = (): void => {
      socket.destroy();
    };
    socket.on('error', drop);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, drop);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        socket.off('error', drop);
        socket.on('error', () => undefined);
        server.emit('connection', socket);
        return;
      }
      const port = (tcp.address() as net.AddressInfo | null)?.port ?? options.port;
      const message = `this server speaks HTTPS: use https://${socket.localAddress?.includes(':') ? `[${socket.localAddress}]` : socket.localAddress}:${port}/ (the CA is at /api/cluster/ca.crt; curl --cacert wharf-ca.crt)`;
      options.logger.debug({ peer: socket.remoteAddress }, 'answered a plain HTTP request on the HTTPS port');
      const body = `${JSON.stringify({ error: { code: 'https_required', message } })}\n`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port, options.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  // the HTTPS server does not listen itself; 'listening' starts its connection tracking (the
  // header and request timeouts, closeAllConnections) as a listening server's would
  server.emit('listening');
  const address = tcp.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : options.port,
    scheme: 'https',
    async close() {
      // the TCP server's close waits for its connections: end them all
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
