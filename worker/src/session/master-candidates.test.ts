import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { leaderNamedBy, MasterCandidates, masterEntries, type HostResolver } from './master-candidates.js';

/** What a standby answers a worker (the real master's refusal, made by hand). */
function standbyRefusal(leader: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('wharf-leader', leader);
  return Object.assign(new Error(`14 UNAVAILABLE: not the leader; the leader is ${leader}`), { code: grpc.status.UNAVAILABLE, details: '', metadata });
}
const unreachable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: grpc.status.UNAVAILABLE, details: '', metadata: new grpc.Metadata() });

const fakeResolver: HostResolver = async (host) => {
  if (host === 'masters.example') return ['10.0.0.1', '10.0.0.2', 'fd00::3'];
  if (host === 'one.example') return ['10.0.0.7'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

describe('master candidates', () => {
  it('reads --master as a comma list', () => {
    expect(masterEntries('h1:50051, h2:50051 ,h3:50051')).toEqual(['h1:50051', 'h2:50051', 'h3:50051']);
    expect(masterEntries('10.0.0.5:7070')).toEqual(['10.0.0.5:7070']);
  });

  it('makes each address of a DNS name a master, verified against the name; a name with one address or none is dialled by name', async () => {
    const candidates = new MasterCandidates(['masters.example:50051', 'one.example:50051', 'gone.example:50051', '10.0.0.9:50051'], fakeResolver);
    await candidates.refresh();
    expect(candidates.all).toEqual([
      { dial: '10.0.0.1:50051', verifyName: 'masters.example' },
      { dial: '10.0.0.2:50051', verifyName: 'masters.example' },
      { dial: '[fd00::3]:50051', verifyName: 'masters.example' },
      { dial: 'one.example:50051', verifyName: 'one.example' },
      { dial: 'gone.example:50051', verifyName: 'gone.example' },
      { dial: '10.0.0.9:50051', verifyName: '10.0.0.9' },
    ]);
  });

  it('tries the next master at once after a failure and waits only when every one failed', async () => {
    const candidates = new MasterCandidates(['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'], fakeResolver);
    expect(candidates.current.dial).toBe('10.0.0.1:1');
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: false });
    expect(candidates.current.dial).toBe('10.0.0.2:1');
    // a standby that knows no leader yet (an election is on): the next one
    expect(await candidates.afterFailure(standbyRefusal(''))).toEqual({ waitFirst: false });
    expect(candidates.current.dial).toBe('10.0.0.3:1');
    // a standby answered in that pass: an election is on, so the wait is short
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: true, soon: true });
    expect(candidates.current.dial).toBe('10.0.0.1:1');
    await candidates.afterFailure(unreachable);
    await candidates.afterFailure(unreachable);
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: true });
    // a master took the worker, then its stream dropped: a new pass
    candidates.reset();
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: false });
  });

  it('goes to the leader a standby names, in the list or not, and back to the list when it fails', async () => {
    const candidates = new MasterCandidates(['10.0.0.1:1', '10.0.0.2:1'], fakeResolver);
    expect(await candidates.afterFailure(standbyRefusal('10.0.0.2:1'))).toEqual({ waitFirst: false, followed: '10.0.0.2:1' });
    expect(candidates.current).toEqual({ dial: '10.0.0.2:1', verifyName: '10.0.0.2' });
    expect(await candidates.afterFailure(standbyRefusal('leader.example:50051'))).toEqual({ waitFirst: false, followed: 'leader.example:50051' });
    // verified against the name the standby gave (TLS: it must also chain to the pinned CA)
    expect(candidates.current).toEqual({ dial: 'leader.example:50051', verifyName: 'leader.example' });
    await candidates.afterFailure(unreachable);
    expect(candidates.current.dial).toBe('10.0.0.1:1');
  });

  it('stops following after three refusals in a row (masters naming each other) and falls back to the list', async () => {
    const candidates = new MasterCandidates(['10.0.0.1:1', '10.0.0.2:1'], fakeResolver);
    expect((await candidates.afterFailure(standbyRefusal('10.0.0.2:1'))).followed).toBe('10.0.0.2:1');
    expect((await candidates.afterFailure(standbyRefusal('10.0.0.1:1'))).followed).toBe('10.0.0.1:1');
    expect((await candidates.afterFailure(standbyRefusal('10.0.0.2:1'))).followed).toBe('10.0.0.2:1');
    const fourth = await candidates.afterFailure(standbyRefusal('10.0.0.1:1'));
    expect(fourth.followed).toBeUndefined();
  });

  it('one master: every failure waits, as before', async () => {
    const candidates = new MasterCandidates(['10.0.0.1:1'], fakeResolver);
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: true });
    expect(await candidates.afterFailure(unreachable)).toEqual({ waitFirst: true });
    expect(candidates.current.dial).toBe('10.0.0.1:1');
  });

  it('tells a standby refusal from other errors', () => {
    expect(leaderNamedBy(standbyRefusal('m2:50051'))).toBe('m2:50051');
    expect(leaderNamedBy(standbyRefusal(''))).toBe('');
    expect(leaderNamedBy(unreachable)).toBeUndefined();
    expect(leaderNamedBy(new Error('boom'))).toBeUndefined();
  });
});
