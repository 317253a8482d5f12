import { type HostRecord, loadInventory } from '../../fleet/inventory.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';

/** `dockward hosts list`. */
export async function hostsList(ctx: CommandContext): Promise<HostRecord[]> {
  return (await loadInventory(ctx.paths)).hosts;
}

export function renderHostsList(hs: readonly HostRecord[]): string {
  return renderTable(
    ['NAME', 'ENDPOINT', 'CERT', 'SERVER SANS', 'SERVER CERT UNTIL'],
    hs.map((h) => [
      h.name,
      h.endpoint,
      h.certName ?? h.certDir,
      h.server?.sans.join(',') ?? '-',
      h.server?.notAfter ?? '-',
    ]),
  );
}
