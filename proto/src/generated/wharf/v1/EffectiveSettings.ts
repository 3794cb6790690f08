// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The settings an attempt's container runs with, as the worker applied them.
 */
export interface EffectiveSettings {
  /**
   * cores of CPU quota; 0 = none
   */
  'cpu'?: (number | string);
  /**
   * bytes of memory limit (swap included); 0 = none
   */
  'memory'?: (number | string | Long);
  /**
   * bytes of writable space before the task is stopped; 0 = not watched
   */
  'disk'?: (number | string | Long);
  'pidsLimit'?: (number | string | Long);
  /**
   * "uid[:gid]" or a name; "" = the image's own user
   */
  'user'?: (string);
  'readOnlyRootFilesystem'?: (boolean);
  'noNewPrivileges'?: (boolean);
  /**
   * the container's capabilities, without CAP_
   */
  'capabilities'?: (string)[];
  /**
   * the network joined: the tasks network, "none", "host", a run's network
   */
  'network'?: (string);
  'pullPolicy'?: (string);
}

/**
 * The settings an attempt's container runs with, as the worker applied them.
 */
export interface EffectiveSettings__Output {
  /**
   * cores of CPU quota; 0 = none
   */
  'cpu': (number);
  /**
   * bytes of memory limit (swap included); 0 = none
   */
  'memory': (number);
  /**
   * bytes of writable space before the task is stopped; 0 = not watched
   */
  'disk': (number);
  'pidsLimit': (number);
  /**
   * "uid[:gid]" or a name; "" = the image's own user
   */
  'user': (string);
  'readOnlyRootFilesystem': (boolean);
  'noNewPrivileges': (boolean);
  /**
   * the container's capabilities, without CAP_
   */
  'capabilities': (string)[];
  /**
   * the network joined: the tasks network, "none", "host", a run's network
   */
  'network': (string);
  'pullPolicy': (string);
}
