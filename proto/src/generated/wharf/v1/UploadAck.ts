// Original file: wharf.proto

import type { OutputFile as _wharf_v1_OutputFile, OutputFile__Output as _wharf_v1_OutputFile__Output } from '../../wharf/v1/OutputFile.js';

export interface UploadAck {
  'files'?: (_wharf_v1_OutputFile)[];
}

export interface UploadAck__Output {
  'files': (_wharf_v1_OutputFile__Output)[];
}
