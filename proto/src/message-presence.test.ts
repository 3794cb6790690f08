// wharf.proto uses no proto3 `optional` (older protoc releases refuse it): a message field has
// presence of its own. These round trips through the real encoding check that the generated
// types and the loader still tell an absent field (null) from an empty message.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MasterMessage, MasterMessage__Output, WorkerMessage, WorkerMessage__Output } from './index.js';
import { loadWharfProto, PROTO_PATH } from './index.js';

const connect = loadWharfProto().wharf.v1.WorkerGateway.service.Connect;
const up = (message: WorkerMessage): WorkerMessage__Output => connect.requestDeserialize(connect.requestSerialize(message)) as WorkerMessage__Output;
const down = (message: MasterMessage): MasterMessage__Output => connect.responseDeserialize(connect.responseSerialize(message)) as MasterMessage__Output;

describe('message fields without proto3 optional', () => {
  it('wharf.proto declares no field `optional`', () => {
    const fields = readFileSync(PROTO_PATH, 'utf8')
      .split('\n')
      .filter((line) => /^\s*optional\s/.test(line));
    expect(fields).toEqual([]);
  });

  it('AttemptResult.direct_uploads: absent arrives as null, an empty list as an empty message', () => {
    expect(up({ result: { attemptId: 'a' } }).result?.directUploads).toBeNull();
    expect(up({ result: { attemptId: 'a', directUploads: { artifacts: [] } } }).result?.directUploads).toEqual({ artifacts: [] });
    expect(up({ result: { attemptId: 'a', directUploads: { artifacts: [{ name: 'm', sha256: 'f', size: 1 }] } } }).result?.directUploads?.artifacts).toHaveLength(1);
  });

  it('TaskSpec.direct_outputs: absent arrives as null, an empty list as an empty message', () => {
    expect(down({ assign: { attemptId: 'a' } }).assign?.directOutputs).toBeNull();
    expect(down({ assign: { attemptId: 'a', directOutputs: { names: [] } } }).assign?.directOutputs).toEqual({ names: [] });
  });

  it('AttemptEvent.effective and TaskSpec.registry_auth (containers): absent arrive as null, present as sent', () => {
    expect(up({ event: { attemptId: 'a', kind: 'started' } }).event?.effective).toBeNull();
    const effective = up({ event: { attemptId: 'a', kind: 'started', effective: { cpu: 0.5, memory: 1024, pidsLimit: 64, capabilities: ['KILL'], network: 'none' } } }).event?.effective;
    expect(effective).toMatchObject({ cpu: 0.5, memory: 1024, pidsLimit: 64, capabilities: ['KILL'], network: 'none', user: '', noNewPrivileges: false });
    expect(down({ assign: { attemptId: 'a' } }).assign?.registryAuth).toBeNull();
    expect(down({ assign: { attemptId: 'a', registryAuth: { serverAddress: 'r.example', username: 'u', password: 'p' } } }).assign?.registryAuth).toEqual({
      serverAddress: 'r.example',
      username: 'u',
      password: 'p',
    });
  });

  it('ReportNack travels as MasterMessage field 6', () => {
    const nack = down({ reportNack: { attemptId: 'a', kind: 'result', reason: 'master storage full: …', retryAfterMs: 1000 } });
    expect(nack.payload).toBe('reportNack');
    expect(nack.reportNack).toEqual({ attemptId: 'a', kind: 'result', reason: 'master storage full: …', retryAfterMs: 1000 });
    // field 6, wire type 2 (length-delimited): tag byte (6 << 3) | 2 = 0x32
    expect(connect.responseSerialize({ reportNack: { attemptId: 'a' } })[0]).toBe(0x32);
  });
});
