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
  | 'limited' // a per-identity gateway limit is reached: exit 1, HTTP 429
  | 'busy' // a gateway-wide limit is reached: exit 1, HTTP 503
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
  DW_E_SSH_HOST_KEY: {
    kind: 'failed',
    summary: "The host's SSH key is not in known_hosts (or differs from it): nothing was run there.",
  },
  DW_E_SSH: { kind: 'failed', summary: 'The SSH connection to a host failed, or a command run over it did.' },
  DW_E_CRL_PUSH: {
    kind: 'failed',
    summary: 'The CRL did not reach every gateway-mode host (the revocation itself is recorded).',
  },
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
  DW_E_JSON_TOO_COMPLEX: {
    kind: 'too-large',
    summary: 'The JSON request body has more keys or deeper nesting than the gateway accepts.',
  },
  DW_E_LIMIT_REACHED: {
    kind: 'limited',
    summary: 'This identity has as many connections or streams open as the gateway allows.',
  },
  DW_E_GATEWAY_BUSY: {
    kind: 'busy',
    summary: 'The gateway is at a limit for all clients (connections, buffered bodies).',
  },
  DW_E_RATE_LIMITED: {
    kind: 'limited',
    summary: 'This identity sends requests faster than the gateway records them (--audit-rate).',
  },
  DW_E_POLICY: {
    kind: 'usage',
    summary: 'A policy file is invalid: the message names the file, line and column of each problem.',
  },
  DW_E_MONITOR_RULES: {
    kind: 'usage',
    summary: 'A monitor rules file is invalid: the message names the file, line and column of each problem.',
  },
  DW_E_ROLE_UNKNOWN: {
    kind: 'usage',
    summary: 'A certificate OU names neither a built-in role nor a role of the given policy file.',
  },
  DW_E_ADDRESS_IN_USE: {
    kind: 'conflict',
    summary: 'Another process listens on the address dockward was asked to listen on.',
  },
  DW_E_LISTEN_DENIED: {
    kind: 'usage',
    summary:
      'The system refused to let dockward listen there (a port below 1024 needs root or CAP_NET_BIND_SERVICE).',
  },
  DW_E_ADDRESS_UNAVAILABLE: {
    kind: 'usage',
    summary: 'The address to listen on is not an address of this machine.',
  },
  DW_E_PERMISSION: {
    kind: 'usage',
    summary: 'The system refused access to a file or folder (permission denied).',
  },
  DW_E_NOT_FOUND: {
    kind: 'not-found',
    summary: 'A file, folder or Docker object (gateway ownership check) does not exist.',
  },
  DW_E_NETWORK: {
    kind: 'upstream',
    summary: 'A network connection failed: refused, reset, timed out, or the name does not resolve.',
  },
  DW_E_ALREADY_RUNNING: {
    kind: 'conflict',
    summary: 'dockward up runs already with this state folder; the message says how to reach or stop it.',
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
  limited: 1,
  busy: 1,
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
  limited: 429,
  busy: 503,
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

/** The fields Node sets on a failed system call. */
interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

function systemErrorOf(err: unknown): SystemError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return e as unknown as SystemError;
  }
  return undefined;
}

/**
 * A failed system call (listen, open, connect) as the DockwardError a person can act on, or
 * undefined when it is not one of those: the CLI reports only real bugs as DW_E_INTERNAL.
 */
export function fromSystemError(err: unknown): DockwardError | undefined {
  const e = systemErrorOf(err);
  if (e === undefined) return undefined;
  const where =
    e.address !== undefined
      ? `${e.address.includes(':') ? `[${e.address}]` : e.address}${e.port !== undefined ? `:${e.port}` : ''}`
      : undefined;
  const file = e.path ?? '';
  const cause = { cause: err };
  if (e.syscall === 'listen' || e.syscall === 'bind') {
    if (e.code === 'EADDRINUSE') {
      return new DockwardError(
        'DW_E_ADDRESS_IN_USE',
        `cannot listen on ${where ?? 'that address'}: another process listens there`,
        {
          hint: `Stop that process (see \`ss -ltnp 'sport = :${e.port ?? 'PORT'}'\`), or choose another port with --listen HOST:PORT.`,
          ...cause,
        },
      );
    }
    if (e.code === 'EACCES' || e.code === 'EPERM') {
      return new DockwardError('DW_E_LISTEN_DENIED', `not allowed to listen on ${where ?? 'that address'}`, {
        hint: 'Ports below 1024 need root or CAP_NET_BIND_SERVICE: choose a port from 1024 up, e.g. --listen 127.0.0.1:2376.',
        ...cause,
      });
    }
    if (e.code === 'EADDRNOTAVAIL') {
      return new DockwardError(
        'DW_E_ADDRESS_UNAVAILABLE',
        `cannot listen on ${where ?? 'that address'}: it is not an address of this machine`,
        {
          hint: 'Listen on an address this machine has (`ip -br addr`), 127.0.0.1, or 0.0.0.0 for all.',
          ...cause,
        },
      );
    }
  }
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return new DockwardError(
      'DW_E_PERMISSION',
      `permission denied: ${file || e.syscall || 'the operation'}`,
      {
        hint: 'Run as a user that may read and write it (often root for /etc/docker and the Docker socket), or point dockward at another path.',
        ...cause,
      },
    );
  }
  if (e.code === 'ENOENT' && file !== '' && e.syscall !== 'connect') {
    return new DockwardError('DW_E_NOT_FOUND', `${file} does not exist`, {
      hint: 'Check the path (a relative path is read from the current folder).',
      ...cause,
    });
  }
  if (e.code === 'EISDIR' || e.code === 'ENOTDIR') {
    return new DockwardError(
      'DW_E_NOT_FOUND',
      `${file}: ${e.code === 'EISDIR' ? 'is a folder, not a file' : 'a part of the path is not a folder'}`,
      {
        hint: 'Check the path.',
        ...cause,
      },
    );
  }
  const network: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused (nothing listens there)',
    ECONNRESET: 'the connection was reset by the other side',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved right now',
    ENOENT: 'the socket does not exist',
  };
  const what = network[e.code];
  if (what !== undefined) {
    const target = e.hostname ?? where ?? (file || undefined);
    return new DockwardError('DW_E_NETWORK', `cannot connect${target ? ` to ${target}` : ''}: ${what}`, {
      hint: 'Check that the daemon or gateway runs and that the address is right; a firewall may drop the connection.',
      ...cause,
    });
  }
  return undefined;
}
