/**
 * The contract between `hosts renew` and the per-mode rotation of a provisioned host's server
 * certificate. Both modes make a new key and CSR on the host (the key never leaves it), sign here,
 * install there, and verify from this side that the new certificate is the one served.
 */
import type { PassphraseSource } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';
import type { HostRecord } from './inventory.js';

export interface ServerRotationOptions {
  paths: StatePaths;
  host: HostRecord;
  passphrase: PassphraseSource;
  /** How long the host may take to serve again after the restart or reload. */
  timeoutMs: number;
  /** Validity of the new certificate in days (default: the PKI's default for servers). */
  days?: number;
  progress?: (line: string) => void;
}

export interface ServerRotation {
  host: string;
  mode: 'native' | 'gateway';
  oldSerial: string;
  newSerial: string;
  newNotAfter: string;
  oldFingerprint: string;
  /** SHA-256 fingerprint of the certificate the host serves after the rotation (read as a client). */
  servedFingerprint: string;
  /** True when the old pair was put back because the new one was not served. */
  rolledBack: boolean;
  /**
   * The longest gap, in ms, between two successful TLS `GET /_ping` from this side while the host
   * restarted dockerd (native) or reloaded the gateway (gateway): the API downtime measured.
   */
  downtimeMs: number;
  /** Containers running before and still running after (ids), and any that stopped. */
  containersKept: number;
  containersStopped: string[];
  /** Warnings worth printing (e.g. live-restore is off: a dockerd restart stops the containers). */
  warnings: string[];
}

export type RotateServerCert = (options: ServerRotationOptions) => Promise<ServerRotation>;
