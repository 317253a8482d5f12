/**
 * The systemd units `dockward service install` writes for the long-running commands (gateway,
 * monitor). Pure: the unit text from a spec; `manage.ts` does the I/O.
 *
 * Hardening follows systemd.exec(5): a dedicated system user in the docker group (the socket is
 * root:docker 0660, so the group is all the access it needs, and it is root-equivalent: the
 * sandbox below limits what a compromised process can do to the host's files, not to dockerd),
 * no privilege gain through setuid binaries, the whole file system read-only except the folders
 * the flags write to.
 */
import { dirname, isAbsolute } from 'node:path';
import { DockwardError } from '../errors.js';

export const SERVICE_NAMES = ['gateway', 'monitor'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const SERVICE_USER = 'dockward';
/** The service's own state folder (StateDirectory=dockward) and its DOCKWARD_HOME. */
export const SERVICE_HOME = '/var/lib/dockward';
/** LogsDirectory=dockward: where audit logs go unless the flags say otherwise. */
export const SERVICE_LOG_DIR = '/var/log/dockward';

export function unitName(name: ServiceName): string {
  return `dockward-${name}.service`;
}

export function parseServiceName(value: string): ServiceName {
  const found = SERVICE_NAMES.find((n) => n === value);
  if (!found) {
    throw new DockwardError('DW_E_USAGE', `no service "${value}"`, {
      hint: `Name one of: ${SERVICE_NAMES.join(', ')}.`,
    });
  }
  return found;
}

export interface ServiceSpec {
  name: ServiceName;
  /** Absolute path of the dockward executable. */
  exec: string;
  /** The command's own flags, passed through unchanged. */
  args: readonly string[];
  /** undefined: runs as root (no way to create a system user on this host). */
  user: string | undefined;
  /** Supplementary groups (docker, for the socket). */
  groups: readonly string[];
  /** Extra folders the service writes to, beyond its state and log folders. */
  writable: readonly string[];
}

/** Flags whose value is a file the service writes (its folder must be writable in the sandbox). */
const WRITTEN_FILE_FLAGS = ['--audit-log', '--audit-feed', '--store'] as const;

/**
 * The folders a command line writes to: the folder of each `--audit-log FILE`, `--audit-feed
 * PATH` and `--store sqlite:FILE`. A monitor's `--audit-log` is read, not written, but reading
 * needs no ReadWritePaths, and listing it too is harmless.
 */
export function writablePaths(args: readonly string[]): string[] {
  const out = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    for (const flag of WRITTEN_FILE_FLAGS) {
      let value: string | undefined;
      if (arg === flag) value = args[i + 1];
      else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
      if (value === undefined) continue;
      if (flag === '--store') {
        if (!value.startsWith('sqlite:')) continue;
        value = value.slice('sqlite:'.length);
      }
      if (!isAbsolute(value)) {
        throw new DockwardError('DW_E_USAGE', `${flag} ${value}: a service needs an absolute path`, {
          hint: 'systemd starts the service in /, so write the full path, e.g. /var/log/dockward/gateway.log.',
        });
      }
      out.add(dirname(value));
    }
  }
  return [...out];
}

/** Quotes one argument for ExecStart= (systemd.service(5) "Command lines"). */
export function quoteExecArg(arg: string): string {
  if (/[\n\r\0]/.test(arg)) {
    throw new DockwardError('DW_E_USAGE', 'a service argument holds a line break', {
      hint: 'Pass each flag and value as its own argument, without line breaks.',
    });
  }
  // `%` is a specifier and `$` a variable in ExecStart=: both doubled to stay literal.
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderServiceUnit(spec: ServiceSpec): string {
  const writable = [...new Set([SERVICE_HOME, SERVICE_LOG_DIR, ...spec.writable])];
  const exec = [spec.exec, spec.name, ...spec.args].map(quoteExecArg).join(' ');
  return [
    `# Written by dockward service install ${spec.name}; remove with dockward service uninstall ${spec.name}.`,
    '[Unit]',
    `Description=dockward ${spec.name}`,
    'Documentation=https://github.com/dockward/dockward/blob/main/docs/hosts.md',
    'After=network-online.target docker.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    // The gateway reloads its policy, certificates and CRL on SIGHUP without dropping connections.
    ...(spec.name === 'gateway' ? ['ExecReload=/bin/kill -HUP $MAINPID'] : []),
    'Restart=on-failure',
    'RestartSec=2s',
    `Environment=DOCKWARD_HOME=${SERVICE_HOME}`,
    // Machine-readable logs in the journal (no terminal to colour).
    'Environment=NO_COLOR=1',
    ...(spec.user ? [`User=${spec.user}`, `Group=${spec.user}`] : []),
    ...(spec.groups.length > 0 ? [`SupplementaryGroups=${spec.groups.join(' ')}`] : []),
    'StateDirectory=dockward',
    'LogsDirectory=dockward',
    'UMask=0027',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    `ReadWritePaths=${writable.join(' ')}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
