// A/B two builds of the gateway on a shared, noisy machine: both run against the same dockerd,
// and short load windows alternate between them (A B B A ...), so a burst of other work hits
// both alike. Compares the gateway's CPU per request (from /proc), the figure that does not
// depend on how much CPU the rest of the machine leaves free.
//   DW_BENCH_GATEWAY_ENTRY_B=<other build>/index.js node --import tsx bench/ab.ts [endpoint] [conns] [pairs]
import { runClient } from './gateway.js';
import { startRig } from './rig.js';
import { summarize } from './stats.js';

if (!process.env['DW_BENCH_GATEWAY_ENTRY_B']) {
  console.error(
    'set DW_BENCH_GATEWAY_ENTRY_B to the other build (and DW_BENCH_GATEWAY_ENTRY for A, default the current one)',
  );
  process.exit(2);
}
const endpoint = process.argv[2] ?? '/_ping';
const connections = Number(process.argv[3] ?? 8);
const pairs = Number(process.argv[4] ?? 8);
const rig = await startRig();
try {
  const a = rig.targets.find((t) => t.name === 'gateway')!;
  const b = rig.targets.find((t) => t.name === 'gateway-b')!;
  const stats = {
    A: { cpu: [] as number[], rps: [] as number[] },
    B: { cpu: [] as number[], rps: [] as number[] },
  };
  for (let i = 0; i < pairs; i++) {
    const order =
      i % 2 === 0
        ? ([
            ['A', a],
            ['B', b],
          ] as const)
        : ([
            ['B', b],
            ['A', a],
          ] as const);
    for (const [name, t] of order) {
      const m = await runClient(
        {
          mode: 'keepalive',
          target: t.target,
          path: endpoint,
          connections,
          durationMs: 1500,
          warmupMs: 300,
          tlsDir: rig.clientTlsDir,
        },
        t.proxyPid !== undefined ? { proxy: t.proxyPid } : {},
      );
      stats[name].cpu.push((m.proxyCpuMs / m.result.requests) * 1000);
      stats[name].rps.push(m.result.rps);
    }
  }
  for (const name of ['A', 'B'] as const) {
    const c = summarize(stats[name].cpu);
    const r = summarize(stats[name].rps);
    console.log(
      `${name}: gateway CPU per request median ${c.median.toFixed(0)} µs (min ${c.min.toFixed(0)}), req/s median ${r.median.toFixed(0)} (max ${r.max.toFixed(0)})`,
    );
  }
} finally {
  await rig.close();
}
