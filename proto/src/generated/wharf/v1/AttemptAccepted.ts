// Original file: wharf.proto


/**
 * The worker has received an assignment and will run it.
 */
export interface AttemptAccepted {
  'attemptId'?: (string);
}

/**
 * The worker has received an assignment and will run it.
 */
export interface AttemptAccepted__Output {
  'attemptId': (string);
}
