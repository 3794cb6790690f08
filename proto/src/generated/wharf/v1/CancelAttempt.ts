// Original file: wharf.proto


export interface CancelAttempt {
  'attemptId'?: (string);
  'reason'?: (string);
  'graceSeconds'?: (number);
}

export interface CancelAttempt__Output {
  'attemptId': (string);
  'reason': (string);
  'graceSeconds': (number);
}
