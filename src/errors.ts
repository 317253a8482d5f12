/**
 * Every error dockward raises on purpose carries a stable code from this table.
 * Callers match on `err.code`, never on message text. `docs/errors.md` documents each code and
 * `src/errors.test.ts` keeps the two in step.
 */

/** What kind of failure a code is: it decides the CLI exit code and the gateway's HTTP status. */
export type ErrorKind =
  | 'usage' // bad flags or bad input: exit 2, HTTP 400
  | 'not-found' // a named thing does not exist: exit 2, HTTP 404
  | 'conflict' // it exists already / state forbids it: exit 2, HTTP 409
  | 'denied' // refused by policy or authentication: exit 1, HTTP 403
  | 'too-large' // over a size limit: exit 2, HTTP 413
  | 'upstream' // the daemon or a remote host failed or is unreachable: exit 1, HTTP 502
  | 'failed' // the command ran and found a failure: exit 1, HTTP 500
  | 'internal'; // a bug: exit 1, HTTP 500

export const ERROR_CODES = {
  DW_E_USAGE: { kind: 'usage', summary: 'A flag or argument is missing or malformed.' },
  DW_E_INPUT: { kind: 'usage', summary: 'An input file or value is malformed.' },
  DW_E_SAN_INVALID: { kind: 'usage', summary: 'A subject alternative name is malformed.' },
  DW_E_KEY_TYPE: { kind: 'usage', summary: 'The key type is not one dockward can create.' },
  DW_E_NAME_INVALID: {
    kind: 'usage',
    summary: 'A certificate or host name has characters that are not allowed.',
  },
  DW_E_DURATION: { kind: 'usage', summary: 'A duration or day count is malformed or out of range.' },
  DW_E_CA_MISSING: { kind: 'not-found', summary: 'The PKI has no CA yet.' },
  DW_E_CA_EXISTS: { kind: 'conflict', summary: 'A CA exists already and would be replaced.' },
  DW_E_CERT_EXISTS: { kind: 'conflict', summary: 'A certificate with that name exists already.' },
  DW_E_CERT_UNKNOWN: { kind: 'not-found', summary: 'No certificate with that name is in the PKI index.' },
  DW_E_CERT_REVOKED: { kind: 'conflict', summary: 'The certificate is revoked already.' },
  DW_E_PASSPHRASE: { kind: 'usage', summary: 'The CA key passphrase is missing or wrong.' },
  DW_E_STORE_CORRUPT: {
    kind: 'failed',
    summary: 'A file in the state folder cannot be read or does not match its schema.',
  },
  DW_E_LOCKED: { kind: 'conflict', summary: 'Another dockward process holds the state folder lock.' },
  DW_E_FILE: { kind: 'failed', summary: 'A file could not be read or written.' },
  DW_E_DEPENDENCY: { kind: 'failed', summary: 'A program dockward needs is not installed.' },
  DW_E_UPSTREAM: {
    kind: 'upstream',
    summary: 'The Docker daemon or a remote endpoint failed or cannot be reached.',
  },
  DW_E_INTERNAL: { kind: 'internal', summary: 'An unexpected internal error (a bug: please report it).' },
} as const satisfies Record<string, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface DockwardErrorOptions {
  /** One line that tells the user how to fix it. */
  hint?: string;
  cause?: unknown;
}

export class DockwardError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: DockwardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockwardError';
    this.code = code;
    this.hint = options.hint;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }
}

export function isDockwardError(err: unknown): err is DockwardError {
  return err instanceof DockwardError;
}

const EXIT_BY_KIND: Record<ErrorKind, number> = {
  usage: 2,
  'not-found': 2,
  conflict: 2,
  'too-large': 2,
  denied: 1,
  upstream: 1,
  failed: 1,
  internal: 1,
};

const HTTP_BY_KIND: Record<ErrorKind, number> = {
  usage: 400,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  denied: 403,
  upstream: 502,
  failed: 500,
  internal: 500,
};

/** The process exit code for an error (DESIGN.md: 2 bad usage or input, 1 a failure found). */
export function toExitCode(err: unknown): number {
  return isDockwardError(err) ? EXIT_BY_KIND[err.kind] : 1;
}

/** The HTTP status the gateway answers with for an error; stages never hard-code statuses. */
export function toHttpStatus(err: unknown): number {
  return isDockwardError(err) ? HTTP_BY_KIND[err.kind] : 500;
}

/** A message for an unknown thrown value, without assuming it is an Error. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
