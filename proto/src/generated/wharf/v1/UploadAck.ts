// Original file: wharf.proto

import type { OutputFile as _wharf_v1_OutputFile, OutputFile__Output as _wharf_v1_OutputFile__Output } from '../../wharf/v1/OutputFile.js';

/**
 * The files this stream delivered whole, with the size and sha256 the master computed; a
 * worker lists these in AttemptResult.files.
 */
export interface UploadAck {
  'files'?: (_wharf_v1_OutputFile)[];
}

/**
 * The files this stream delivered whole, with the size and sha256 the master computed; a
 * worker lists these in AttemptResult.files.
 */
export interface UploadAck__Output {
  'files': (_wharf_v1_OutputFile__Output)[];
}
