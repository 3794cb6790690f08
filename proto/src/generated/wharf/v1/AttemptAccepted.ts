// Original file: wharf.proto


/**
 * The worker has received an assignment and will run it (sent at once for every TaskSpec, also
 * for one sent again).
 */
export interface AttemptAccepted {
  'attemptId'?: (string);
}

/**
 * The worker has received an assignment and will run it (sent at once for every TaskSpec, also
 * for one sent again).
 */
export interface AttemptAccepted__Output {
  'attemptId': (string);
}
