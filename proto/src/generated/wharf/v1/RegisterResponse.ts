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
  /**
   * The master declares a worker lost after this long without a heartbeat; a worker whose
   * Fencing.stop_after_ms is 0 stops its attempts after this long without contact.
   */
  'heartbeatTtlMs'?: (number);
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
  /**
   * The master declares a worker lost after this long without a heartbeat; a worker whose
   * Fencing.stop_after_ms is 0 stops its attempts after this long without contact.
   */
  'heartbeatTtlMs': (number);
}
