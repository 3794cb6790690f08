// Original file: wharf.proto


export interface RegisterResponse {
  'workerId'?: (string);
  'sessionToken'?: (string);
  'heartbeatIntervalMs'?: (number);
  /**
   * Attempts the worker reported that the master no longer gives it (lost and handed to
   * another worker, or cancelled): the worker stops them and drops their results.
   */
  'stopAttempts'?: (string)[];
  'draining'?: (boolean);
}

export interface RegisterResponse__Output {
  'workerId': (string);
  'sessionToken': (string);
  'heartbeatIntervalMs': (number);
  /**
   * Attempts the worker reported that the master no longer gives it (lost and handed to
   * another worker, or cancelled): the worker stops them and drops their results.
   */
  'stopAttempts': (string)[];
  'draining': (boolean);
}
