// Original file: wharf.proto


export interface ResultAck {
  'attemptId'?: (string);
}

export interface ResultAck__Output {
  'attemptId': (string);
}
