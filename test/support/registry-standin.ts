// A stand-in container registry for tests: the Docker Registry HTTP API v2, as much of it as
// `docker pull` uses (GET /v2/, manifests, blobs), over plain HTTP on 127.0.0.1 (which the
// engine treats as an insecure registry by default), with HTTP Basic authentication. It serves
// one small image it builds itself (the host's static busybox as /bin/busybox), so the real
// engine pulls from it: the only fake part is the registry, and its name says so. No registry
// image or outside registry is reachable on the test machines.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

export interface RegistryStandIn {
  /** host:port, as an image reference starts ("127.0.0.1:41234") */
  address: string;
  /** the image it serves, e.g. 127.0.0.1:41234/private/tool:1 */
  image: string;
  /** the Authorization headers it saw, in order (to prove what the engine sent) */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** One layer with /bin/busybox and /bin/sh, and the image config and manifest around it. */
function buildImage(): { manifest: Buffer; blobs: Map<string, Buffer> } {
  const root = mkdtempSync(join(tmpdir(), 'wharf-registry-image-'));
  try {
    mkdirSync(join(root, 'bin'));
    cpSync('/bin/busybox', join(root, 'bin', 'busybox'));
    execFileSync('ln', ['-s', 'busybox', join(root, 'bin', 'sh')]);
    const tar = execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '-cf', '-', 'bin'], { maxBuffer: 64 * 1024 * 1024 });
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
      }),
    );
    return { manifest, blobs: new Map([[sha256(config), config], [sha256(layer), layer]]) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Starts the stand-in on 127.0.0.1 (port 0); it serves `repository:tag` to `username`/`password` only. */
export async function startRegistryStandIn(options: { username: string; password: string; repository?: string; tag?: string }): Promise<RegistryStandIn> {
  const repository = options.repository ?? 'private/tool';
  const tag = options.tag ?? '1';
  const { manifest, blobs } = buildImage();
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const authorizations: (string | undefined)[] = [];
  const authorised = (req: IncomingMessage): boolean => {
    authorizations.push(req.headers.authorization);
    return req.headers.authorization === expected;
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    if (!authorised(req)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="wharf-registry-standin"', 'Content-Type': 'application/json', 'Docker-Distribution-Api-Version': 'registry/2.0' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const headers = { 'Docker-Distribution-Api-Version': 'registry/2.0' };
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
      res.end('{}');
      return;
    }
    if (url.pathname === `/v2/${repository}/manifests/${tag}` || url.pathname === `/v2/${repository}/manifests/${sha256(manifest)}`) {
      res.writeHead(200, { ...headers, 'Content-Type': MANIFEST_TYPE, 'Content-Length': manifest.length, 'Docker-Content-Digest': sha256(manifest) });
      res.end(req.method === 'HEAD' ? undefined : manifest);
      return;
    }
    const blob = url.pathname.startsWith(`/v2/${repository}/blobs/`) ? blobs.get(url.pathname.split('/').pop() ?? '') : undefined;
    if (blob) {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length, 'Docker-Content-Digest': url.pathname.split('/').pop() });
      res.end(req.method === 'HEAD' ? undefined : blob);
      return;
    }
    res.writeHead(404, { ...headers, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    image: `127.0.0.1:${port}/${repository}:${tag}`,
    authorizations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
