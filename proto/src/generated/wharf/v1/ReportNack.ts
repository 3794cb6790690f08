// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The master could not store a report the worker sent on this Connect stream (an AttemptEvent or
 * an AttemptResult): nothing of it was applied. Today's reason is a full disk on the master
 * ("master storage full: …"). The worker sends the same report again on the same stream — it
 * need not reconnect — no sooner than retry_after_ms, backing off further (exponential, with
 * jitter) while the refusals go on, until the master takes it: a result until its ResultAck
 * arrives, an event until it is no longer refused (on an open stream an event is either
 * stored or answered by a ReportNack; events have no positive ack). For kind "pull_progress"
 * the worker may send its latest progress instead of the refused one.
 */
export interface ReportNack {
  'attemptId'?: (string);
  /**
   * which report: "result", or the AttemptEvent.kind that was refused ("started", "pulling",
   * "pulled", "pull_progress")
   */
  'kind'?: (string);
  /**
   * why, for the worker's log: "master storage full: the database cannot grow (SQLITE_FULL); …"
   */
  'reason'?: (string);
  /**
   * wait at least this long before sending the report again
   */
  'retryAfterMs'?: (number | string | Long);
}

/**
 * The master could not store a report the worker sent on this Connect stream (an AttemptEvent or
 * an AttemptResult): nothing of it was applied. Today's reason is a full disk on the master
 * ("master storage full: …"). The worker sends the same report again on the same stream — it
 * need not reconnect — no sooner than retry_after_ms, backing off further (exponential, with
 * jitter) while the refusals go on, until the master takes it: a result until its ResultAck
 * arrives, an event until it is no longer refused (on an open stream an event is either
 * stored or answered by a ReportNack; events have no positive ack). For kind "pull_progress"
 * the worker may send its latest progress instead of the refused one.
 */
export interface ReportNack__Output {
  'attemptId': (string);
  /**
   * which report: "result", or the AttemptEvent.kind that was refused ("started", "pulling",
   * "pulled", "pull_progress")
   */
  'kind': (string);
  /**
   * why, for the worker's log: "master storage full: the database cannot grow (SQLITE_FULL); …"
   */
  'reason': (string);
  /**
   * wait at least this long before sending the report again
   */
  'retryAfterMs': (number);
}
