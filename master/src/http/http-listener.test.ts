import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './http-listener.js';

describe('isLoopbackHost', () => {
  it('tells loopback-only listen hosts (plain HTTP by default) from the rest (HTTPS by default)', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'wharf.example.com', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
