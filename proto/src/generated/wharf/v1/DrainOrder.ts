// Original file: wharf.proto


export interface DrainOrder {
  'draining'?: (boolean);
}

export interface DrainOrder__Output {
  'draining': (boolean);
}
