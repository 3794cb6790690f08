// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

export interface Resources {
  /**
   * cores
   */
  'cpu'?: (number | string);
  /**
   * bytes
   */
  'memory'?: (number | string | Long);
  /**
   * devices
   */
  'gpu'?: (number);
  /**
   * bytes
   */
  'disk'?: (number | string | Long);
}

export interface Resources__Output {
  /**
   * cores
   */
  'cpu': (number);
  /**
   * bytes
   */
  'memory': (number);
  /**
   * devices
   */
  'gpu': (number);
  /**
   * bytes
   */
  'disk': (number);
}
