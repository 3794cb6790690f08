// Original file: wharf.proto


export interface RunningAttempt {
  'attemptId'?: (string);
  'taskId'?: (string);
}

export interface RunningAttempt__Output {
  'attemptId': (string);
  'taskId': (string);
}
