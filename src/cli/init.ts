import { Command } from 'commander';
import { DEFAULT_LISTEN, type InitResult, initHost } from '../daemon/host-init.js';
import { DEFAULT_CERT_DIR } from '../daemon/profiles.js';
import { DEFAULT_PIDFILE, DEFAULT_PROCESS_LOG, parseRestartMode } from '../daemon/restart.js';
import { DOCKER_GROUP_WARNING, octal } from '../daemon/socket-perms.js';
import { DockwardError } from '../errors.js';
import { collect, contextOf } from './context.js';
import { renderApply } from './daemon.js';
import { cliPassphraseSource } from './passphrase.js';

function secondsOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 3600) {
    throw new DockwardError('DW_E_USAGE', `--timeout "${value}" is not a number of seconds (1-3600)`, {
      hint: 'For example --timeout 120.',
    });
  }
  return n;
}

/** `dockward init`: one Docker host secured end to end (PKI, TLS files, remote-tls profile, restart, TLS check). */
export function initCommand(): Command {
  return new Command('init')
    .description(
      'Secure this Docker host in one go: PKI if missing, server certificate, TLS files, the remote-tls profile applied with a restart, a real TLS check.',
    )
    .option(
      '--san <san>',
      'SAN of the server certificate, repeatable (default: host name, its addresses, 127.0.0.1)',
      collect,
    )
    .option('--name <name>', 'name of the server certificate in the PKI (default: the host name)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--tls-dir <dir>', "where dockerd's ca.pem, cert.pem and key.pem go", DEFAULT_CERT_DIR)
    .option('--config <path>', 'the daemon.json dockerd reads', '/etc/docker/daemon.json')
    .option('--listen <host:port>', 'the TLS listener', DEFAULT_LISTEN)
    .option('--restart <mode>', 'systemd | process | none (default: detected)', 'auto')
    .option('--pidfile <path>', 'pidfile of the running dockerd', DEFAULT_PIDFILE)
    .option('--host <url>', 'where dockerd answers locally after the restart (default: its unix socket)')
    .option(
      '--log-file <path>',
      `process mode: where the restarted dockerd's output goes (default ${DEFAULT_PROCESS_LOG})`,
    )
    .option('--root <dir>', 'root folder the systemd units are read from', '/')
    .option('--timeout <seconds>', 'how long dockerd may take to answer after the restart', secondsOf, 90)
    .action(
      async (
        opts: {
          san?: string[];
          name?: string;
          dryRun?: boolean;
          tlsDir: string;
          config: string;
          listen: string;
          restart: string;
          pidfile: string;
          host?: string;
          logFile?: string;
          root: string;
          timeout: number;
        },
        cmd: Command,
      ) => {
        const { paths, out } = contextOf(cmd);
        const res = await initHost({
          paths,
          passphrase: cliPassphraseSource(),
          ...(opts.san && opts.san.length > 0 ? { sans: opts.san } : {}),
          ...(opts.name ? { serverName: opts.name } : {}),
          tlsDir: opts.tlsDir,
          configPath: opts.config,
          listen: opts.listen,
          restart: parseRestartMode(opts.restart),
          pidfile: opts.pidfile,
          root: opts.root,
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.logFile ? { logFile: opts.logFile } : {}),
          startTimeoutMs: opts.timeout * 1000,
          dryRun: opts.dryRun === true,
          progress: (line) => out.info(line),
        });
        out.result(res, renderInit);
      },
    );
}

function renderInit(r: InitResult): string {
  const p = r.plan;
  const plan = [
    `${r.dryRun ? 'plan for' : 'secured'} ${p.hostname}: TLS on ${p.listen.address.includes(':') ? `[${p.listen.address}]` : p.listen.address}:${p.listen.port}`,
    `  CA           ${p.ca.exists ? `use ${p.ca.path}` : `create in ${p.ca.path.replace(/\/ca\.pem$/, '')}`}`,
    `  server cert  ${p.server.action} ${p.server.name} (${p.sans.join(', ')})`,
    `  admin cert   ${p.admin.action} ${p.admin.name} (client, OU admin)`,
    ...p.files.map((f) => `  install      ${f.path} (${octal(f.mode)}) from ${f.from}`),
    `  daemon.json  ${p.configPath}: profile remote-tls`,
    ...(p.dropIn ? [`  drop-in      ${p.dropIn.fileName}`] : []),
    `  restart      ${p.restart}`,
    ...p.warnings.map((w) => `  warning      ${w}`),
  ];
  if (r.dryRun) {
    return [...plan, ...(p.diff ? ['', p.diff.trimEnd()] : []), '', 'dry run: nothing was changed'].join(
      '\n',
    );
  }
  return [
    ...plan,
    '',
    r.apply ? renderApply(r.apply) : '',
    ...r.tls.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}         ${c.what}: ${c.actual}`),
    `  audit        ${r.audit}`,
    '',
    'Connect from a client that has the admin certificate folder:',
    ...p.connect.env.map((l) => `  ${l}`),
    'or as a docker context:',
    `  ${p.connect.context}`,
    '',
    DOCKER_GROUP_WARNING,
  ].join('\n');
}
