// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { RunningAttempt as _wharf_v1_RunningAttempt, RunningAttempt__Output as _wharf_v1_RunningAttempt__Output } from '../../wharf/v1/RunningAttempt.js';
import type { Fencing as _wharf_v1_Fencing, Fencing__Output as _wharf_v1_Fencing__Output } from '../../wharf/v1/Fencing.js';

export interface RegisterRequest {
  /**
   * Enrolment only (no client certificate): a join token `<id>.<secret>`. Ignored when the
   * call presents a client certificate.
   */
  'joinToken'?: (string);
  /**
   * Enrolment: empty (the master assigns the id). With a client certificate: empty or the
   * certificate's id; any other id is refused (PERMISSION_DENIED).
   */
  'workerId'?: (string);
  'name'?: (string);
  'hostname'?: (string);
  'capacity'?: (_wharf_v1_Resources | null);
  /**
   * "docker", "exec", "kubernetes", "sim"
   */
  'runtimes'?: (string)[];
  'labels'?: ({[key: string]: string});
  /**
   * EVERY attempt the worker still holds: running (found again after a restart), and finished
   * with its result not yet acknowledged (ResultAck). One the master gave this worker that is
   * not listed is taken as lost and re-queued; one listed that the master gave away comes back
   * in RegisterResponse.stop_attempts.
   */
  'running'?: (_wharf_v1_RunningAttempt)[];
  'version'?: (string);
  /**
   * PEM PKCS#10 certificate signing request for an ECDSA P-256 key the worker generated. Required
   * at enrolment. With a client certificate: optional, sent when the worker's certificate has
   * less than a third of its life left; the answer then carries a renewed certificate for the
   * same worker id. Subject and extensions of the request are ignored.
   */
  'csr'?: (string);
  /**
   * Required: how this worker stops its attempts when it loses the master. A Register without
   * it, or with a bound longer than the master allows (--max-stop-after), is refused
   * (INVALID_ARGUMENT).
   */
  'fencing'?: (_wharf_v1_Fencing | null);
  /**
   * The host or IP other workers reach this worker's gang members at (its --advertise-address).
   * Empty: the master uses the address it sees the Register call come from. Gang members'
   * TaskSpec.gang_peers are built from it: `<advertise_address>:<port>`. At most 253 characters
   * of a host name, an IPv4 or an IPv6 address (no port); otherwise the Register is refused
   * (INVALID_ARGUMENT).
   */
  'advertiseAddress'?: (string);
  /**
   * 20-24: GPUs as devices.
   * Optional: the worker's GPU device ids ("0", "1", or UUIDs such as "GPU-8f2c…"), from its
   * --gpus flag or detected. Each id 1-64 characters of [A-Za-z0-9:.-], starting with a letter or
   * digit, none twice, and at least capacity.gpu of them; otherwise the Register is refused
   * (INVALID_ARGUMENT). Empty: the worker offers capacity.gpu as a count only and no attempt
   * gets ids. When given, the master assigns each attempt that asks for GPUs that many ids that
   * no other active attempt on this worker holds (TaskSpec.gpu_ids); an attempt keeps the ids it
   * was given across reconnects.
   */
  'gpuIds'?: (string)[];
}

export interface RegisterRequest__Output {
  /**
   * Enrolment only (no client certificate): a join token `<id>.<secret>`. Ignored when the
   * call presents a client certificate.
   */
  'joinToken': (string);
  /**
   * Enrolment: empty (the master assigns the id). With a client certificate: empty or the
   * certificate's id; any other id is refused (PERMISSION_DENIED).
   */
  'workerId': (string);
  'name': (string);
  'hostname': (string);
  'capacity': (_wharf_v1_Resources__Output | null);
  /**
   * "docker", "exec", "kubernetes", "sim"
   */
  'runtimes': (string)[];
  'labels': ({[key: string]: string});
  /**
   * EVERY attempt the worker still holds: running (found again after a restart), and finished
   * with its result not yet acknowledged (ResultAck). One the master gave this worker that is
   * not listed is taken as lost and re-queued; one listed that the master gave away comes back
   * in RegisterResponse.stop_attempts.
   */
  'running': (_wharf_v1_RunningAttempt__Output)[];
  'version': (string);
  /**
   * PEM PKCS#10 certificate signing request for an ECDSA P-256 key the worker generated. Required
   * at enrolment. With a client certificate: optional, sent when the worker's certificate has
   * less than a third of its life left; the answer then carries a renewed certificate for the
   * same worker id. Subject and extensions of the request are ignored.
   */
  'csr': (string);
  /**
   * Required: how this worker stops its attempts when it loses the master. A Register without
   * it, or with a bound longer than the master allows (--max-stop-after), is refused
   * (INVALID_ARGUMENT).
   */
  'fencing': (_wharf_v1_Fencing__Output | null);
  /**
   * The host or IP other workers reach this worker's gang members at (its --advertise-address).
   * Empty: the master uses the address it sees the Register call come from. Gang members'
   * TaskSpec.gang_peers are built from it: `<advertise_address>:<port>`. At most 253 characters
   * of a host name, an IPv4 or an IPv6 address (no port); otherwise the Register is refused
   * (INVALID_ARGUMENT).
   */
  'advertiseAddress': (string);
  /**
   * 20-24: GPUs as devices.
   * Optional: the worker's GPU device ids ("0", "1", or UUIDs such as "GPU-8f2c…"), from its
   * --gpus flag or detected. Each id 1-64 characters of [A-Za-z0-9:.-], starting with a letter or
   * digit, none twice, and at least capacity.gpu of them; otherwise the Register is refused
   * (INVALID_ARGUMENT). Empty: the worker offers capacity.gpu as a count only and no attempt
   * gets ids. When given, the master assigns each attempt that asks for GPUs that many ids that
   * no other active attempt on this worker holds (TaskSpec.gpu_ids); an attempt keeps the ids it
   * was given across reconnects.
   */
  'gpuIds': (string)[];
}
