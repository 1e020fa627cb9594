/** The object is closed, or in a state where the call makes no sense. */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** A configured engine or feature is not available on this machine. */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}

/** A client sent something we refuse; `code` travels to the client in an `error` event. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export function invalidParameter(name: string, expected: string, actual: unknown): TypeError {
  const got = actual === null ? 'null' : Array.isArray(actual) ? 'array' : typeof actual;
  return new TypeError(`Expected ${expected} for ${name} but received ${String(actual)} of type ${got}`);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError');
}
