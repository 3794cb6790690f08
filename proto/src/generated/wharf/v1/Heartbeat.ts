// Original file: wharf.proto

import type { Usage as _wharf_v1_Usage, Usage__Output as _wharf_v1_Usage__Output } from '../../wharf/v1/Usage.js';
import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'usage'?: (_wharf_v1_Usage | null);
  'runningAttempts'?: (string)[];
  'sentAtMs'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'usage': (_wharf_v1_Usage__Output | null);
  'runningAttempts': (string)[];
  'sentAtMs': (number);
}
