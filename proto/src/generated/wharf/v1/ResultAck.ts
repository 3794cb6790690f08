// Original file: wharf.proto


/**
 * The master holds this attempt's result: the worker may forget it (delete it from its outbox,
 * stop listing it in RegisterRequest.running).
 */
export interface ResultAck {
  'attemptId'?: (string);
}

/**
 * The master holds this attempt's result: the worker may forget it (delete it from its outbox,
 * stop listing it in RegisterRequest.running).
 */
export interface ResultAck__Output {
  'attemptId': (string);
}
