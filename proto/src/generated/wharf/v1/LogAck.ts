// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Answered when the worker ends the stream.
 */
export interface LogAck {
  /**
   * the highest seq applied for the attempt (all seqs up to it arrived)
   */
  'lastSeq'?: (number | string | Long);
  /**
   * the attempt this stream carried (empty when it carried no chunk)
   */
  'attemptId'?: (string);
}

/**
 * Answered when the worker ends the stream.
 */
export interface LogAck__Output {
  /**
   * the highest seq applied for the attempt (all seqs up to it arrived)
   */
  'lastSeq': (number);
  /**
   * the attempt this stream carried (empty when it carried no chunk)
   */
  'attemptId': (string);
}
