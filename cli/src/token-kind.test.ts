import { describe, expect, it } from 'vitest';
import { formatDuration } from '@wharf/proto/console-format';
import { describeToken } from './token-kind.js';

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;

describe('what a saved token is', () => {
  it('tells API tokens, login tokens with their expiry, and no token apart', () => {
    const now = 1_800_000_000_000;
    expect(describeToken('wharf_pat_x', now, formatDuration)).toBe('API token');
    expect(describeToken(jwt({ exp: now / 1000 + 3600 }), now, formatDuration)).toBe('login token, expires in 1h');
    expect(describeToken(jwt({ exp: now / 1000 - 120 }), now, formatDuration)).toBe('login token, expired 2m ago (wharf login)');
    expect(describeToken('garbage', now, formatDuration)).toBe('login token');
    expect(describeToken(undefined, now, formatDuration)).toBe('none');
  });
});
