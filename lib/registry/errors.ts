/** Raised when registry content cannot be read: missing, unreachable, too large, corrupted, or an unsafe path. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly path: string;
  readonly notFound: boolean;
  constructor(path: string, message: string, { notFound = false } = {}) {
    super(`${path}: ${message}`);
    this.path = path;
    this.notFound = notFound;
  }
}

/** Raised before any download when remote content would be served without a pin; the message says how to pin. */
export class UnpinnedError extends RegistryError {
  override name = 'UnpinnedError';
}
