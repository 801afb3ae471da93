/** The one error type of a Firmata kit: a code for programs, a message (and, for a pin map, its problems) for people. */
export type FirmataErrorCode =
  | 'FIRMATA_PIN_MAP'
  | 'FIRMATA_OPTIONS'
  | 'FIRMATA_PORT'
  | 'FIRMATA_TIMEOUT'
  | 'FIRMATA_BOARD'
  | 'FIRMATA_DISCONNECTED'
  | 'FIRMATA_CALLBACK';

export class FirmataKitError extends Error {
  readonly code: FirmataErrorCode;
  /** FIRMATA_PIN_MAP: one line per problem. */
  readonly problems: string[];
  constructor(code: FirmataErrorCode, message: string, problems: string[] = []) {
    super(message);
    this.name = 'FirmataKitError';
    this.code = code;
    this.problems = problems;
  }
}
