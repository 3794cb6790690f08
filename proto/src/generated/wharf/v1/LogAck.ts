// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

export interface LogAck {
  'lastSeq'?: (number | string | Long);
}

export interface LogAck__Output {
  'lastSeq': (number);
}
