// Original file: wharf.proto


export interface Usage {
  'cpuPercent'?: (number | string);
  'memoryPercent'?: (number | string);
  'diskPercent'?: (number | string);
  'gpuPercent'?: (number | string);
  'hasGpu'?: (boolean);
}

export interface Usage__Output {
  'cpuPercent': (number);
  'memoryPercent': (number);
  'diskPercent': (number);
  'gpuPercent': (number);
  'hasGpu': (boolean);
}
