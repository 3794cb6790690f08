// Original file: wharf.proto

export const LogStream = {
  STDOUT: 'STDOUT',
  STDERR: 'STDERR',
  SYSTEM: 'SYSTEM',
} as const;

export type LogStream =
  | 'STDOUT'
  | 0
  | 'STDERR'
  | 1
  | 'SYSTEM'
  | 2

export type LogStream__Output = typeof LogStream[keyof typeof LogStream]
