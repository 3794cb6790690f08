// Original file: wharf.proto


/**
 * An admin drained (true) or activated (false) this worker: while draining the master sends
 * it no new assignment; what runs goes on. Informational for the worker.
 */
export interface DrainOrder {
  'draining'?: (boolean);
}

/**
 * An admin drained (true) or activated (false) this worker: while draining the master sends
 * it no new assignment; what runs goes on. Informational for the worker.
 */
export interface DrainOrder__Output {
  'draining': (boolean);
}
