// The one-line join (docs/OPERATIONS.md): GET /join.sh and GET /join/wharf-worker.mjs, without
// authentication (the join token is the secret, not the worker). Transport only: the kit
// (cluster/join-kit.ts) reads the bundle and fills in join.sh.
//
// join.sh is filled in for the address the machine used to fetch it (its Host header, when it
// is a plain host name or address): it downloads the bundle from there, and its worker dials
// that host's gRPC port unless the master names a public gRPC address or listens for gRPC on
// one address only.
import type { Request } from 'express';
import { Router } from 'express';
import { oneLineJoinCommand, renderJoinScript, type JoinKit } from '../cluster/join-kit.js';
import { WharfError } from '../errors.js';
import { handle } from './handle.js';

/** How machines with no clone join this master. */
export interface OneLineJoin {
  kit: JoinKit;
  /** the base URL other machines reach the API at (https://host:port; http:// on loopback or with WHARF_TLS=off) */
  url(): string;
  /** curl's `sha256//…` pin of the HTTPS key; undefined over plain HTTP */
  pin: string | undefined;
  /** the gRPC address a worker should dial when its machine reached the API at `host` */
  grpcAddressFor(host: string): string;
  /** why the line does not protect the script (plain HTTP beyond loopback); undefined when it does */
  warning: string | undefined;
}

/** What GET /api/cluster/join says about the one-line join. */
export interface OneLineJoinView {
  available: boolean;
  /** the line, with `token` in it; null when unavailable */
  command: string | null;
  scriptUrl: string;
  pinnedPublicKey: string | null;
  bundleSha256: string | null;
  bundleVersion: string | null;
  /** why it is unavailable, or what it does not protect against */
  warning: string | null;
}

export async function describeOneLineJoin(oneLine: OneLineJoin, caHash: string, token: string): Promise<OneLineJoinView> {
  const url = oneLine.url();
  const reason = await oneLine.kit.unavailableReason();
  const bundle = reason ? undefined : await oneLine.kit.bundle();
  return {
    available: reason === undefined,
    command: reason ? null : oneLineJoinCommand({ url, pin: oneLine.pin, token, caHash }),
    scriptUrl: `${url}/join.sh`,
    pinnedPublicKey: oneLine.pin ?? null,
    bundleSha256: bundle?.sha256 ?? null,
    bundleVersion: bundle?.version ?? null,
    warning: reason ?? oneLine.warning ?? null,
  };
}

/** host[:port] as a client may send it in Host: a name, an IPv4 address or a bracketed IPv6 one. */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?$/;

/** The host (without port) and base URL the request came to, when its Host header is plain. */
function requestedBase(req: Request, url: string): { host: string; base: string } | undefined {
  const header = req.headers.host;
  const match = header ? HOST_HEADER.exec(header) : null;
  if (!header || !match) return undefined;
  const scheme = url.startsWith('https:') ? 'https' : 'http';
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), base: `${scheme}://${header}` };
}

export function joinRoutes(deps: { oneLine: OneLineJoin; caHash: string }): Router {
  const router = Router();
  router.get(
    '/join.sh',
    handle(async (req, res) => {
      const { kit } = deps.oneLine;
      const [bundle, template] = await Promise.all([kit.bundle(), kit.template()]);
      if (!bundle || !template) throw new WharfError('unavailable', (await kit.unavailableReason()) ?? 'the worker bundle is missing');
      const configured = deps.oneLine.url();
      const requested = requestedBase(req, configured);
      const script = renderJoinScript(template, {
        url: requested?.base ?? configured,
        grpcAddress: deps.oneLine.grpcAddressFor(requested?.host ?? new URL(configured).hostname.replace(/^\[(.*)\]$/, '$1')),
        caHash: deps.caHash,
        pin: deps.oneLine.pin ?? '',
        bundleSha256: bundle.sha256,
        bundleVersion: bundle.version,
      });
      res.setHeader('Content-Type', 'text/x-shellscript; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('X-Wharf-Bundle-Sha256', bundle.sha256);
      res.send(script);
    }),
  );
  router.get(
    '/join/wharf-worker.mjs',
    handle(async (_req, res) => {
      const bundle = await deps.oneLine.kit.bundle();
      if (!bundle) throw new WharfError('unavailable', (await deps.oneLine.kit.unavailableReason()) ?? 'the worker bundle is missing');
      res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Disposition', 'attachment; filename="wharf-worker.mjs"');
      res.setHeader('X-Wharf-Bundle-Sha256', bundle.sha256);
      res.send(bundle.bytes);
    }),
  );
  return router;
}
