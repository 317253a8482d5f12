import { assertKnownRole } from '../../policy/role-names.js';
import type { CommandContext } from '../context.js';

/** `--role` of `hosts add` and `hosts provision`: a built-in role or one of `--policy`, unless `--force`. */
export async function checkRoleFlag(
  ctx: CommandContext,
  opts: { role?: string; policy?: string; force?: boolean },
): Promise<void> {
  if (opts.role === undefined) return;
  await assertKnownRole(opts.role, {
    ...(opts.policy !== undefined ? { policyFile: opts.policy } : {}),
    force: opts.force === true,
    flag: '--role',
    warn: (line) => ctx.out.info(line),
  });
}
