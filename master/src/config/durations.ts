// Durations as config and the REPL take them; the one parser lives beside the other units.
export { parseDurationMs } from '@wharf/proto/units';
