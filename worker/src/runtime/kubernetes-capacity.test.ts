import { describe, expect, it } from 'vitest';
import { capacityFromQuotas, parseQuantity } from './kubernetes-capacity.js';

describe('parseQuantity', () => {
  it.each([
    ['2', 2],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['8Gi', 8 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['100k', 100_000],
  ])('reads %s', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each(['', 'lots', '1Gb', '-1', '5 Gi'])('refuses %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('capacityFromQuotas', () => {
  it('takes the smallest hard limit over every quota and key', () => {
    expect(
      capacityFromQuotas([
        { spec: { hard: { 'requests.cpu': '16', 'limits.memory': '64Gi', 'requests.nvidia.com/gpu': '4', pods: '100' } } },
        { spec: { hard: { cpu: '12', 'requests.memory': '48Gi', 'requests.ephemeral-storage': '500Gi' } } },
      ]),
    ).toEqual({ cpu: 12, memory: 48 * 2 ** 30, gpu: 4, disk: 500 * 2 ** 30 });
  });

  it('gives nothing for resources no quota limits', () => {
    expect(capacityFromQuotas([{ spec: { hard: { pods: '10' } } }, {}])).toEqual({});
  });
});
