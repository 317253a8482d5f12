// `hosts status` over 50 endpoints: in-process mutual-TLS stubs on loopback answering like dockerd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addHost } from '../src/fleet/hosts.js';
import { loadInventory, readClientTls } from '../src/fleet/inventory.js';
import { fleetStatus } from '../src/fleet/status.js';
import { type EngineStub, startEngineStub } from '../src/fleet/test-support.js';
import { initCa } from '../src/pki/init-ca.js';
import { issueCertificate } from '../src/pki/issue.js';
import { statePaths } from '../src/store/paths.js';
import type { BenchFigure } from './pki.js';
import { summarize, timeIt } from './stats.js';

const ENDPOINTS = 50;

/**
 * Median wall time of a full `hosts status` (TLS /_ping, /version, /info per host; concurrency 16,
 * the CLI default) over 50 endpoints, each with its own client certificate.
 */
export async function benchFleet(): Promise<BenchFigure[]> {
  const home = mkdtempSync(join(tmpdir(), 'dw-bench-fleet-'));
  const stubs: EngineStub[] = [];
  try {
    const paths = statePaths(home);
    const none = async () => undefined;
    await initCa(paths, {}, none);
    await issueCertificate(paths, { kind: 'server', name: 'srv', sans: ['IP:127.0.0.1'] }, none);
    const server = await readClientTls(paths.issuedDir('srv'));
    for (let i = 0; i < ENDPOINTS; i++) {
      const stub = await startEngineStub({ cert: server.cert, key: server.key, ca: server.ca });
      stubs.push(stub);
      await addHost(
        paths,
        { name: `node${i}`, endpoint: stub.endpoint, role: 'readonly', verify: false, timeoutMs: 5000 },
        none,
      );
    }
    const hosts = (await loadInventory(paths)).hosts;
    const samples = await timeIt(
      5,
      async () => {
        const rows = await fleetStatus(hosts, { timeoutMs: 5000, concurrency: 16 });
        const down = rows.filter((r) => !r.reachable);
        if (down.length > 0)
          throw new Error(`bench fleet: ${down.length} stubs unreachable: ${down[0]?.error}`);
      },
      1,
    );
    return [
      {
        id: 'fleet.status.50',
        label: `hosts status over ${ENDPOINTS} TLS endpoints (concurrency 16)`,
        unit: 'ms',
        summary: summarize(samples),
        target: { op: '<', value: 2000 },
      },
    ];
  } finally {
    await Promise.all(stubs.map((s) => s.close()));
    rmSync(home, { recursive: true, force: true });
  }
}
