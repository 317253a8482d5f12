// A full local audit (`dockward audit --host unix://SOCK` without the CLI's start-up): the dockerd
// found through /proc, its files, its listeners probed on loopback, /info, /version and every
// container inspected, then every rule. Against a private dockerd with a plain tcp listener and
// a few created containers.
import {
  freeLoopbackPort,
  PrivateDockerd,
  runDocker,
  TEST_IMAGE,
  buildBusyboxImage,
} from '../test/e2e/harness/index.js';
import { runAudit } from '../src/audit/audit.js';
import type { BenchFigure } from './pki.js';
import { summarize, timeIt } from './stats.js';

const CONTAINERS = 8;
const RUNS = Number(process.env['DW_BENCH_AUDIT_RUNS'] ?? 15);

/** Median time of a full local audit; target under 1 s. */
export async function benchAudit(): Promise<BenchFigure[]> {
  const port = await freeLoopbackPort();
  const dockerd = PrivateDockerd.create({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`] });
  try {
    await dockerd.start();
    await buildBusyboxImage(dockerd);
    for (let i = 0; i < CONTAINERS; i++) {
      const extra =
        i === 0 ? ['--privileged'] : i === 1 ? ['-v', `${dockerd.socketPath}:/var/run/docker.sock`] : [];
      const res = await runDocker(['create', '--name', `bench-${i}`, ...extra, TEST_IMAGE], {
        env: dockerd.env,
      });
      if (res.code !== 0) throw new Error(`docker create: ${res.stderr}`);
    }
    const target = { kind: 'local', host: dockerd.host } as const;
    let findings = 0;
    const samples = await timeIt(
      RUNS,
      async () => {
        const report = await runAudit(target);
        findings = report.findings.length;
      },
      2,
    );
    return [
      {
        id: 'audit.local.full',
        label: `audit: full local audit (${CONTAINERS} containers, ${findings} findings)`,
        unit: 'ms',
        summary: summarize(samples),
        target: { op: '<', value: 1000 },
      },
    ];
  } finally {
    await dockerd.cleanup();
  }
}
