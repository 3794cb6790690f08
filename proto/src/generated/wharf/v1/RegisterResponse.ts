// Original file: wharf.proto


export interface RegisterResponse {
  /**
   * the worker's id (assigned by the master at enrolment)
   */
  'workerId'?: (string);
  'heartbeatIntervalMs'?: (number);
  /**
   * Attempts the worker reported that the master no longer gives it (lost and handed to
   * another worker, or cancelled): the worker stops them and drops their results.
   */
  'stopAttempts'?: (string)[];
  'draining'?: (boolean);
  /**
   * When the request carried a csr: the worker's new certificate (PEM, subject CN = worker_id,
   * clientAuth). The worker keeps it and its key, and presents it on every later call; the
   * previous certificate is refused once the new one has been used.
   */
  'certificate'?: (string);
  /**
   * With `certificate`: the serving CA (PEM) the worker verifies the master with from now on.
   */
  'caCertificate'?: (string);
  /**
   * The master declares a worker lost after this long without a heartbeat; a worker whose
   * Fencing.stop_after_ms is 0 stops its attempts after this long without contact.
   */
  'heartbeatTtlMs'?: (number);
}

export interface RegisterResponse__Output {
  /**
   * the worker's id (assigned by the master at enrolment)
   */
  'workerId': (string);
  'heartbeatIntervalMs': (number);
  /**
   * Attempts the worker reported that the master no longer gives it (lost and handed to
   * another worker, or cancelled): the worker stops them and drops their results.
   */
  'stopAttempts': (string)[];
  'draining': (boolean);
  /**
   * When the request carried a csr: the worker's new certificate (PEM, subject CN = worker_id,
   * clientAuth). The worker keeps it and its key, and presents it on every later call; the
   * previous certificate is refused once the new one has been used.
   */
  'certificate': (string);
  /**
   * With `certificate`: the serving CA (PEM) the worker verifies the master with from now on.
   */
  'caCertificate': (string);
  /**
   * The master declares a worker lost after this long without a heartbeat; a worker whose
   * Fencing.stop_after_ms is 0 stops its attempts after this long without contact.
   */
  'heartbeatTtlMs': (number);
}
