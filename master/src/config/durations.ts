// Durations are parsed alike by master and worker (@wharf/proto units).
export { parseDurationMs } from '@wharf/proto';
