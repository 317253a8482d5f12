/** The time forms filters accept: `24h`, `7d`, `30m` before now, or an ISO time. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The ISO time a filter value names, or undefined when it is neither form. */
export function parseSince(text: string, now = Date.now()): string | undefined {
  const rel = /^(\d+)([mhd])$/.exec(text.trim());
  if (rel) return new Date(now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
