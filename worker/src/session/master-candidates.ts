// Where the worker dials when there are several masters (--master h1:50051,h2:50051,h3:50051,
// or a DNS name with several addresses). Only the leader takes workers: a standby refuses
// Register and Connect with UNAVAILABLE and the trailer `wharf-leader: HOST:PORT` (empty while
// no leader is known). On such a refusal the worker goes to the named leader at once — any
// address a standby names, because TLS still verifies it (its certificate must chain to the
// pinned cluster CA and carry the name dialled); on any other failure it tries the next
// candidate at once, and only after a whole pass over the list failed does it wait (the
// caller's backoff) and resolve the DNS names again. A pass in which a standby answered waits
// only the base delay: a master is alive and an election is on, so a leader is due within the
// lease TTL, and a worker that waited longer would stay away past its --stop-after. One --master with one address behaves as
// before: every failure waits.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { splitHostPort } from '../identity/ca-discovery.js';

/** The trailer a standby names the leader in (`host:port`, empty when no leader is known). */
export const LEADER_TRAILER = 'wharf-leader';
/** Refusals followed in a row before the worker falls back to the list and its backoff (no ping-pong between masters). */
const MAX_REDIRECTS = 3;

export interface MasterCandidate {
  /** what gRPC dials: HOST:PORT as given, or one address of a DNS name */
  dial: string;
  /** the name the master's certificate must carry: the host given (a DNS name or an IP), or the leader's */
  verifyName: string;
}

/** All addresses (A and AAAA) of a host name, in the resolver's order. */
export type HostResolver = (host: string) => Promise<string[]>;

export const resolveAllAddresses: HostResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** `10.0.0.5:7070`, `[fd00::5]:7070` */
export function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The comma list of --master as entries (one for a single master). */
export function masterEntries(masterAddress: string): string[] {
  return masterAddress
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/**
 * When `error` is a standby's refusal (UNAVAILABLE with the `wharf-leader` trailer), the leader
 * it names ('' when it knows none); undefined for any other error.
 */
export function leaderNamedBy(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== grpc.status.UNAVAILABLE) return undefined;
  if (!('metadata' in error) || !(error.metadata instanceof grpc.Metadata)) return undefined;
  const values = error.metadata.get(LEADER_TRAILER);
  if (values.length === 0) return undefined;
  const value = values[0];
  return typeof value === 'string' ? value.trim() : '';
}

function candidateOf(entry: string): MasterCandidate {
  return { dial: entry, verifyName: splitHostPort(entry).host };
}

export class MasterCandidates {
  private list: MasterCandidate[];
  private index = 0;
  /** a leader a standby named that is not in the list */
  private leader: MasterCandidate | undefined;
  /** failures since the pass over the list began */
  private failedInPass = 0;
  private redirects = 0;
  /** a standby answered in this pass (an election is on: retry soon) */
  private standbyInPass = false;

  constructor(
    private readonly entries: readonly string[],
    private readonly resolve: HostResolver = resolveAllAddresses,
  ) {
    if (entries.length === 0) throw new Error('no master address');
    this.list = entries.map(candidateOf);
  }

  /** The master to dial now. */
  get current(): MasterCandidate {
    return this.leader ?? this.list[this.index]!;
  }

  /** Every candidate of the current pass (for tests and logs). */
  get all(): readonly MasterCandidate[] {
    return this.list;
  }

  /**
   * Resolves the DNS names again: a name with several addresses becomes one candidate per
   * address (verified against the name); a name with one address, or one that does not resolve
   * now, is dialled by name (gRPC resolves it and says why it cannot). Keeps the current one
   * when it is still there.
   */
  async refresh(): Promise<void> {
    const current = this.current;
    const next: MasterCandidate[] = [];
    for (const entry of this.entries) {
      const { host, port } = splitHostPort(entry);
      let addresses: string[] = [];
      if (isIP(host) === 0) addresses = await this.resolve(host).catch(() => []);
      if (addresses.length <= 1) next.push(candidateOf(entry));
      else for (const address of addresses) next.push({ dial: joinHostPort(address, port), verifyName: host });
    }
    const unique = next.filter((candidate, i) => next.findIndex((other) => other.dial === candidate.dial) === i);
    this.list = unique;
    if (!this.leader) {
      const kept = unique.findIndex((candidate) => candidate.dial === current.dial);
      this.index = kept >= 0 ? kept : 0;
    }
  }

  /**
   * A call to the current master failed: moves to where to try next. Answers whether to wait
   * (backoff) first — only when a whole pass over the list failed — and the leader followed.
   */
  async afterFailure(error: unknown): Promise<{ waitFirst: boolean; followed?: string; soon?: boolean }> {
    const named = leaderNamedBy(error);
    if (named !== undefined) this.standbyInPass = true;
    if (named && named !== this.current.dial && this.redirects < MAX_REDIRECTS) {
      this.redirects += 1;
      const inList = this.list.findIndex((candidate) => candidate.dial === named);
      if (inList >= 0) {
        this.leader = undefined;
        this.index = inList;
      } else {
        this.leader = candidateOf(named);
      }
      return { waitFirst: false, followed: named };
    }
    if (this.leader) {
      // the named leader failed too: back to the list, after the master that named it
      this.leader = undefined;
    }
    this.index = (this.index + 1) % this.list.length;
    this.failedInPass += 1;
    if (this.failedInPass < this.list.length) return { waitFirst: false };
    const soon = this.standbyInPass;
    this.failedInPass = 0;
    this.redirects = 0;
    this.standbyInPass = false;
    if (this.entries.length > 1 || this.list.length > 1 || isIP(splitHostPort(this.entries[0]!).host) === 0) await this.refresh();
    return soon ? { waitFirst: true, soon } : { waitFirst: true };
  }

  /** A master took the worker (or a stream it held ended): the next failure starts a new pass. */
  reset(): void {
    this.failedInPass = 0;
    this.redirects = 0;
    this.standbyInPass = false;
  }
}
