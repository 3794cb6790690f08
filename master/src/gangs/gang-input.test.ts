import { describe, expect, it } from 'vitest';
import { parseGangInput } from './gang-input.js';

const member = { image: 'wharf/busybox:latest', command: 'true' };

describe('parseGangInput', () => {
  it('takes members like task submissions, with the defaults of a gang', () => {
    const gang = parseGangInput({ members: [member, member, member] });
    expect(gang).toMatchObject({ name: 'busybox-gang', policy: 'restartGang', timeoutSeconds: 0, maxRestarts: 3 });
    expect(gang.members.map((m) => m.name)).toEqual(['busybox-0', 'busybox-1', 'busybox-2']);
    expect(gang.members[0]!.command).toEqual(['sh', '-c', 'true']);
  });

  it('names the member and the field of a bad member', () => {
    expect(() => parseGangInput({ members: [member, member, { command: 'true' }] })).toThrow('members[2].image: is required for the docker runtime');
    expect(() => parseGangInput({ members: [member, { ...member, resources: { cpu: -1 } }] })).toThrow(/^members\[1\]\.resources\.cpu: /);
    expect(() => parseGangInput({ members: [member, { ...member, maxRetries: 2 }] })).toThrow(/^members\[1\]\.maxRetries: a gang member is never retried alone/);
    expect(() => parseGangInput({ members: [member, { ...member, queue: 'batch' }] })).toThrow(/^members\[1\]\.queue: every member waits in the gang's queue "default"/);
  });

  it('refuses a size other than the members given, an unknown policy and unknown fields', () => {
    expect(() => parseGangInput({ size: 3, members: [member, member] })).toThrow(/^size: 3 differs from the 2 members given/);
    expect(() => parseGangInput({ members: [member], policy: 'sometimes' })).toThrow(/^policy: /);
    expect(() => parseGangInput({ members: [member], gangTimeoutSeconds: -1 })).toThrow(/^gangTimeoutSeconds: /);
    expect(() => parseGangInput({ members: [member], extra: 1 })).toThrow('unknown field "extra"');
    expect(() => parseGangInput({ members: [] })).toThrow('members: must name at least one member');
    expect(() => parseGangInput([])).toThrow('body: must be a JSON object');
  });
});
