// The worker port: gRPC over TLS, where a client certificate is optional at the TLS layer and
// decided per call by the gateway (enrolment needs none; everything else needs one).
//
// grpc-js's createSsl either rejects clients without a certificate or never asks for one, so
// ClusterServerCredentials asks for one without requiring it ({requestCert: true,
// rejectUnauthorized: false}); grpc-js then exposes the peer certificate to a call only when it
// chains to the cluster CA (it checks socket.authorized).
//
// The TCP listener is ours: the first byte of a connection says whether it is TLS (a
// handshake record, 0x16). TLS connections go to grpc-js through a connection injector; a
// cleartext client gets an answer it can show (a gRPC status over cleartext HTTP/2, or an HTTP/1
// 400) saying that this port speaks TLS and how to join, and is closed.
import type { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logger.js';

export interface ServerTlsMaterial {
  /** CA certificates client certificates must chain to (PEM) */
  clientCaPem: string;
  /** the server certificate followed by its chain (PEM) */
  certChainPem: string;
  keyPem: string;
}

/** TLS with an optional, CA-verified client certificate. */
export class ClusterServerCredentials extends grpc.ServerCredentials {
  constructor(material: ServerTlsMaterial) {
    super(
      { requestCert: true, rejectUnauthorized: false },
      { ca: [material.clientCaPem], cert: material.certChainPem, key: material.keyPem, minVersion: 'TLSv1.2' },
    );
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const TLS_HANDSHAKE = 0x16;
/** A connection that sends nothing for this long is closed before we know what it is. */
const FIRST_BYTE_TIMEOUT_MS = 30_000;

interface ConnectionInjector {
  injectConnection(connection: net.Socket): void;
  drain(graceTimeMs: number): void;
  destroy(): void;
}

/** Serves a grpc.Server over TLS on a TCP port of its own, refusing cleartext clients clearly. */
export class GrpcTlsPort {
  private readonly tcp: net.Server;
  private readonly injector: ConnectionInjector;
  private readonly cleartext: http2.Http2Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    server: grpc.Server,
    credentials: grpc.ServerCredentials,
    private readonly options: {
      /** what a cleartext client is told (read when one comes: it may name the bound port) */
      refusal: () => string;
      logger: Logger;
      onHttp2Server?: (http2Server: EventEmitter) => void;
    },
  ) {
    this.injector = server.createConnectionInjector(credentials) as ConnectionInjector;
    // the injector's http2 server is the newest one grpc-js keeps (an internal of grpc-js
    // 1.14): handed out for the window widening; without it the defaults stay and we say so
    const internals = server as unknown as { http2Servers?: Map<EventEmitter, unknown> };
    const servers = internals.http2Servers instanceof Map ? [...internals.http2Servers.keys()] : [];
    const newest = servers[servers.length - 1];
    if (newest) options.onHttp2Server?.(newest);
    else options.logger.warn('grpc-js internals changed: cannot widen the HTTP/2 connection window; uploads will be slower');
    this.cleartext = http2.createServer();
    this.cleartext.on('stream', (stream) => {
      stream.on('error', () => undefined);
      // a trailers-only gRPC answer: grpc clients show grpc-message as the call's error
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(grpc.status.UNAVAILABLE),
          'grpc-message': percentEncodeGrpcMessage(options.refusal()),
        },
        { endStream: true },
      );
    });
    this.cleartext.on('session', (session) => {
      session.on('error', () => undefined);
      // let the answer go out, then close
      setTimeout(() => session.close(), 1000).unref();
    });
    this.tcp = net.createServer((socket) => this.route(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.tcp.once('error', onError);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', onError);
        const address = this.tcp.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting; open sessions get `graceMs` to finish. */
  close(graceMs: number): Promise<void> {
    this.injector.drain(graceMs);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        this.injector.destroy();
        resolve();
      }, graceMs);
      this.tcp.close(() => {
        clearTimeout(timer);
        this.injector.destroy();
        resolve();
      });
    });
  }

  forceClose(): void {
    this.tcp.close();
    for (const socket of this.sockets) socket.destroy();
    this.injector.destroy();
  }

  private route(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const onEarlyError = (): void => {
      socket.destroy();
    };
    socket.on('error', onEarlyError);
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, onEarlyError);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        socket.off('error', onEarlyError);
        socket.on('error', () => undefined);
        this.injector.injectConnection(socket);
        return;
      }
      this.options.logger.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'refused a cleartext connection to the TLS worker port');
      const isHttp2 = first.subarray(0, Math.min(first.length, HTTP2_PREFACE.length)).equals(HTTP2_PREFACE.subarray(0, Math.min(first.length, HTTP2_PREFACE.length)));
      if (isHttp2) {
        this.cleartext.emit('connection', replayingStream(socket));
      } else {
        const body = `${JSON.stringify({ error: { code: 'tls_required', message: this.options.refusal() } })}\n`;
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    });
  }
}

/**
 * The socket as a plain stream that first gives back what was already read from it: node's
 * http2 reads a net.Socket's handle directly and would miss the bytes we peeked at.
 */
function replayingStream(socket: net.Socket): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

/** grpc-message encoding (gRPC over HTTP/2): bytes outside printable ASCII, and "%", as %XX. */
function percentEncodeGrpcMessage(message: string): string {
  return [...Buffer.from(message, 'utf8')]
    .map((byte) => (byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}
