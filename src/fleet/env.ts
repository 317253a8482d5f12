import { DockwardError } from '../errors.js';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** Validates a `--shell` value. */
export function parseShell(value: string): Shell {
  if ((SHELLS as readonly string[]).includes(value)) return value as Shell;
  throw new DockwardError('DW_E_USAGE', `unknown shell "${value}"`, {
    hint: `Use one of: ${SHELLS.join(', ')}.`,
  });
}

const VARS = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'] as const;

function quotePosix(v: string): string {
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

function quoteFish(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function quotePowershell(v: string): string {
  return `'${v.replaceAll("'", "''")}'`;
}

/** Shell lines that point the docker CLI at a host (or, with `unset`, clear those variables). */
export function renderEnv(
  shell: Shell,
  target: { name: string; endpoint: string; certDir: string } | undefined,
): string {
  const values: Record<(typeof VARS)[number], string> | undefined = target
    ? { DOCKER_HOST: target.endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: target.certDir }
    : undefined;
  const lines: string[] = [];
  for (const k of VARS) {
    const v = values?.[k];
    switch (shell) {
      case 'bash':
      case 'zsh':
        lines.push(v === undefined ? `unset ${k}` : `export ${k}=${quotePosix(v)}`);
        break;
      case 'fish':
        lines.push(v === undefined ? `set -e ${k};` : `set -gx ${k} ${quoteFish(v)};`);
        break;
      case 'powershell':
        lines.push(
          v === undefined
            ? `Remove-Item Env:\\${k} -ErrorAction SilentlyContinue`
            : `$Env:${k} = ${quotePowershell(v)}`,
        );
        break;
    }
  }
  const how =
    shell === 'fish'
      ? `dockward hosts env ${target?.name ?? 'NAME'}${target ? '' : ' --unset'} --shell fish | source`
      : shell === 'powershell'
        ? `dockward hosts env ${target?.name ?? 'NAME'}${target ? '' : ' --unset'} --shell powershell | Invoke-Expression`
        : `eval "$(dockward hosts env ${target?.name ?? 'NAME'}${target ? '' : ' --unset'})"`;
  lines.push(`# Run this command to configure your shell:`, `# ${how}`);
  return `${lines.join('\n')}\n`;
}
