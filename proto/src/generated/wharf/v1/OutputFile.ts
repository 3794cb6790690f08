// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

export interface OutputFile {
  'path'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
}

export interface OutputFile__Output {
  'path': (string);
  'size': (number);
  'sha256': (string);
}
