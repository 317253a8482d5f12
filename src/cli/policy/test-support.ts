import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Command } from 'commander';
import { bindIo } from '../context.js';
import { policyCommand } from './index.js';

/** Shared by the policy command tests: fixtures, a scratch folder and an in-process runner. */
export const fixture = (name: string) =>
  new URL(`../../../test/fixtures/policy/${name}`, import.meta.url).pathname;
export const EXAMPLE = fixture('example.yaml');
const work = mkdtempSync(join(tmpdir(), 'dw-policy-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

export function bodyFile(name: string, content: string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** Runs `dockward policy ...` in-process (program.ts registers the command; this builds a root of its own). */
export async function policy(
  ...argv: string[]
): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  let stdout = '';
  let stderr = '';
  const root = new Command('dockward').option('--json').option('--home <dir>').exitOverride();
  const cmd = policyCommand();
  cmd.exitOverride();
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: (s) => (stderr += s) });
  root.addCommand(cmd);
  bindIo(root, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  try {
    await root.parseAsync(argv, { from: 'user' });
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error };
  }
}

/** `dockward policy explain builtin --identity o --request REQUEST ...more`. */
export function explainAsO(request: string, ...more: string[]): ReturnType<typeof policy> {
  return policy('policy', 'explain', 'builtin', '--identity', 'o', '--request', request, ...more);
}
