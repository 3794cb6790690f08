// Fetching an artifact's bytes from the master (gRPC FetchArtifact) when artifacts live on the
// master's disk. The cache's verifying sink checks size and sha256; this only checks that the
// chunks arrive in order and that the stream ends with the digest the worker asked for.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { FileChunk__Output } from '@wharf/proto';
import { describeGrpcError, type GatewayConnection } from '../session/gateway-connection.js';
import type { ArtifactFetcher } from './artifact-cache.js';
import { TransferError } from './presigned-transfer.js';

/** An ArtifactFetcher that streams artifact `sha256` from the master for attempt `attemptId`. */
export function fetchFromMaster(gateway: GatewayConnection, attemptId: string, sha256: string, signal?: AbortSignal): ArtifactFetcher {
  return async (sink: Writable) => {
    const metadata = await gateway.callMetadata(signal);
    if (!metadata) throw new TransferError('artifact download aborted');
    const call = gateway.client.fetchArtifact({ attemptId, sha256 }, metadata);
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    let offset = 0;
    let ended = false;
    try {
      for await (const raw of call) {
        const chunk = raw as FileChunk__Output;
        if (chunk.offset !== offset) throw new TransferError(`artifact ${sha256}: chunk at offset ${chunk.offset}, expected ${offset}`);
        if (chunk.data.length > 0 && !sink.write(chunk.data)) await once(sink, 'drain');
        offset += chunk.data.length;
        if (chunk.eof) {
          if (chunk.sha256 !== sha256) throw new TransferError(`artifact ${sha256}: the master sent ${chunk.sha256}`);
          ended = true;
        }
      }
    } catch (error: unknown) {
      if (error instanceof TransferError) throw error;
      throw new TransferError(`artifact ${sha256}: download from the master failed: ${describeGrpcError(error)}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (!ended) throw new TransferError(`artifact ${sha256}: the master's stream ended early`);
    sink.end();
  };
}
