// Original file: wharf.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The settings an attempt runs with, as the worker applied them (the docker runtime reports all
 * of them; kubernetes reports the pod's, with network "pod" or "host"). Informational: the master
 * stores and shows them; a field the worker leaves empty is shown empty.
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
   * bytes of writable space before the task is stopped; 0 = none
   */
  'disk'?: (number | string | Long);
  /**
   * the most processes the task may have at once
   */
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
   * the network joined: the tasks network's name, "none", "host", a run's network (kubernetes:
   * "pod" or "host")
   */
  'network'?: (string);
  /**
   * "IfNotPresent" | "Always" | "Never"
   */
  'pullPolicy'?: (string);
}

/**
 * The settings an attempt runs with, as the worker applied them (the docker runtime reports all
 * of them; kubernetes reports the pod's, with network "pod" or "host"). Informational: the master
 * stores and shows them; a field the worker leaves empty is shown empty.
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
   * bytes of writable space before the task is stopped; 0 = none
   */
  'disk': (number);
  /**
   * the most processes the task may have at once
   */
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
   * the network joined: the tasks network's name, "none", "host", a run's network (kubernetes:
   * "pod" or "host")
   */
  'network': (string);
  /**
   * "IfNotPresent" | "Always" | "Never"
   */
  'pullPolicy': (string);
}
