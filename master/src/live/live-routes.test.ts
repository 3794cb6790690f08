import { describe, expect, it } from 'vitest';
import { matchLiveRoute } from './live-server.js';

describe('matchLiveRoute', () => {
  it('knows the four WebSocket paths', () => {
    expect(matchLiveRoute('/ws/telemetry')).toEqual({ channel: 'telemetry' });
    expect(matchLiveRoute('/ws/telemetry/worker-1')).toEqual({ channel: 'telemetry', workerId: 'worker-1' });
    expect(matchLiveRoute('/ws/events')).toEqual({ channel: 'events' });
    expect(matchLiveRoute('/ws/tasks/0f8e-42/logs')).toEqual({ channel: 'logs', taskId: '0f8e-42' });
    expect(matchLiveRoute('/ws/events/')).toEqual({ channel: 'events' });
  });

  it('refuses anything else', () => {
    for (const path of ['/', '/ws', '/ws/', '/api/tasks', '/ws/tasks/x', '/ws/tasks/x/files', '/ws/telemetry/a/b', '/ws/tasks/../logs', '/ws/telemetry/%2e%2e', '//ws/events']) {
      expect(matchLiveRoute(path), path).toBeUndefined();
    }
  });
});
