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
  | 'headers-too-large' // request headers over the limit: HTTP 431
  | 'timeout' // the client was too slow to send its request: HTTP 408
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
  DW_E_HOST_UNKNOWN: { kind: 'not-found', summary: 'No host with that name is in the fleet inventory.' },
  DW_E_HOST_EXISTS: { kind: 'conflict', summary: 'A host with that name is in the fleet inventory already.' },
  DW_E_HOST_UNREACHABLE: {
    kind: 'upstream',
    summary: 'A fleet host did not answer a TLS ping with its certificates.',
  },
  DW_E_HOST_CERT_MISMATCH: {
    kind: 'upstream',
    summary:
      "A fleet host's TLS handshake failed on certificates: its server certificate is not from the host's CA, or it refused the client certificate.",
  },
  DW_E_FILE_EXISTS: {
    kind: 'conflict',
    summary: 'The output file exists already (pass --force to replace it).',
  },
  DW_E_APPLY_FAILED: {
    kind: 'failed',
    summary:
      'dockerd did not come up (or not with the settings) after daemon apply; the previous configuration was restored.',
  },
  DW_E_ROLLBACK_FAILED: {
    kind: 'failed',
    summary: 'daemon apply failed and dockerd did not come back with the restored configuration either.',
  },
  DW_E_AUDIT_FAILED: {
    kind: 'failed',
    summary: 'dockward audit found a failing finding at or above --fail-on.',
  },
  DW_E_AUDIT_LOG_TAMPERED: {
    kind: 'failed',
    summary: 'An audit log record was edited, deleted or reordered, or a line is not a record.',
  },
  DW_E_DENIED: { kind: 'denied', summary: 'The gateway refused the request: policy, identity or address.' },
  DW_E_UNKNOWN_ENDPOINT: {
    kind: 'denied',
    summary: 'The request is not a Docker Engine API endpoint the gateway knows.',
  },
  DW_E_BAD_REQUEST: { kind: 'usage', summary: 'The gateway cannot parse or canonicalize the request.' },
  DW_E_BODY_TOO_LARGE: { kind: 'too-large', summary: 'The request body is over the gateway limit.' },
  DW_E_HEADERS_TOO_LARGE: {
    kind: 'headers-too-large',
    summary: 'The request headers are over the gateway limit.',
  },
  DW_E_REQUEST_TIMEOUT: { kind: 'timeout', summary: 'The client did not send a complete request in time.' },
  DW_E_POLICY: {
    kind: 'usage',
    summary: 'A policy file is invalid: the message names the file, line and column of each problem.',
  },
  DW_E_MONITOR_RULES: {
    kind: 'usage',
    summary: 'A monitor rules file is invalid: the message names the file, line and column of each problem.',
  },
  DW_E_INTERNAL: { kind: 'internal', summary: 'An unexpected internal error (a bug: please report it).' },
} as const satisfies Record<string, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface DockwardErrorOptions {
  /** One line that tells the user how to fix it. */
  hint?: string;
  cause?: unknown;
  /**
   * The command already printed its result (a report, a status table) and fails because of what
   * it found: with --json, stdout must keep holding that one document, not an error object too.
   */
  resultPrinted?: boolean;
}

export class DockwardError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly resultPrinted: boolean;

  constructor(code: ErrorCode, message: string, options: DockwardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockwardError';
    this.code = code;
    this.hint = options.hint;
    this.resultPrinted = options.resultPrinted === true;
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
  'headers-too-large': 2,
  timeout: 1,
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
  'headers-too-large': 431,
  timeout: 408,
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
