// The master settings this folder reads (WebSocket ping and lag bound, telemetry history).
import { describe, expect, it } from 'vitest';
import { compileMasterConfig, ConfigError, loadMasterConfig } from '../config/master-config.js';

describe('WebSocket and telemetry settings', () => {
  it('default to a 30 s ping, a 4 MiB lag bound and 15 minutes of history', () => {
    const config = compileMasterConfig({});
    expect(config.ws).toEqual({ pingIntervalMs: 30_000, maxBufferedBytes: 4 * 1024 * 1024 });
    expect(config.telemetryHistoryMs).toBe(15 * 60_000);
  });

  it('read flags and environment variables', () => {
    const config = loadMasterConfig(['--ws-ping-interval', '10s', '--telemetry-history=1h'], { WHARF_WS_MAX_BUFFER: '16Mi' });
    expect(config.ws).toEqual({ pingIntervalMs: 10_000, maxBufferedBytes: 16 * 1024 * 1024 });
    expect(config.telemetryHistoryMs).toBe(3_600_000);
  });

  it('refuse values that would break the promises, naming what to set', () => {
    expect(() => compileMasterConfig({ WHARF_TELEMETRY_HISTORY: '5m' })).toThrow(/WHARF_TELEMETRY_HISTORY \(--telemetry-history\) must be at least 15m/);
    expect(() => compileMasterConfig({ WHARF_WS_MAX_BUFFER: '1Ki' })).toThrow(/WHARF_WS_MAX_BUFFER \(--ws-max-buffer\) must be at least 64Ki/);
    expect(() => compileMasterConfig({ WHARF_WS_PING_INTERVAL: '10ms' })).toThrow(ConfigError);
    expect(() => compileMasterConfig({ WHARF_WS_PING_INTERVAL: 'often' })).toThrow(/WHARF_WS_PING_INTERVAL/);
  });
});
