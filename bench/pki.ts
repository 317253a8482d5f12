import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa } from '../src/pki/init-ca.js';
import { issueCertificate } from '../src/pki/issue.js';
import { statePaths } from '../src/store/paths.js';
import { type Summary, summarize, timeIt } from './stats.js';

export interface BenchFigure {
  id: string;
  label: string;
  unit: 'ms' | 'us' | 'req/s' | 'MB/s' | 'MB' | 'KB' | 'records/s';
  summary: Summary;
  target?: { op: '<' | '>='; value: number };
  /** For a load figure: the path measured (unix, native-tls, gateway, haproxy). */
  path?: string;
  /** For a load figure: req/s over native TLS's on the same request and load. */
  ratio?: number;
  /** The ratio this figure should reach. */
  ratioTarget?: number;
  /** CPU spent in the measured window, ms: the load client, the proxy, dockerd. */
  cpu?: { clientMs: number; proxyMs: number; dockerdMs: number };
}

/** Median time to issue a client certificate (key generation, signing, files and index written). */
export async function benchPki(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'dw-bench-pki-'));
  try {
    const paths = statePaths(home);
    const none = async () => undefined;
    await initCa(paths, {}, none);
    const ecdsa = await timeIt(50, (i) =>
      issueCertificate(paths, { kind: 'client', name: `c${i + 10}` }, none),
    );
    const rsa = await timeIt(
      10,
      (i) => issueCertificate(paths, { kind: 'client', name: `r${i + 10}`, keyType: 'rsa-2048' }, none),
      1,
    );
    return [
      {
        id: 'pki.issue.client.ecdsa',
        label: 'issue a client certificate (ECDSA P-256, files + index)',
        unit: 'ms',
        summary: summarize(ecdsa),
        target: { op: '<', value: 50 },
      },
      {
        id: 'pki.issue.client.rsa2048',
        label: 'issue a client certificate (RSA 2048, files + index)',
        unit: 'ms',
        summary: summarize(rsa),
      },
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
