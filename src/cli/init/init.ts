import { type InitResult, initHost } from '../../daemon/host-init.js';
import { type GatewayInitResult, initGatewayHost } from '../../daemon/host-init-gateway.js';
import { DockwardError } from '../../errors.js';
import { renderInstall } from '../service/install.js';
import { parseRestartMode } from '../../daemon/restart.js';
import { DOCKER_GROUP_WARNING, octal } from '../../daemon/socket-perms.js';
import type { CommandContext } from '../context.js';
import { renderApply } from '../daemon/apply.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface InitOptions {
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
  /** seconds */
  timeout: number;
  allow?: string[];
  mode?: string;
}

/** `dockward init`: one Docker host secured end to end; progress lines go to stderr as it works. */
export function init(ctx: CommandContext, opts: InitOptions): Promise<InitResult | GatewayInitResult> {
  const mode = opts.mode ?? 'native';
  if (mode !== 'native' && mode !== 'gateway') {
    throw new DockwardError('DW_E_USAGE', `--mode ${mode}: not native or gateway`, {
      hint: 'native: dockerd serves TLS itself; gateway: dockward gateway serves it, dockerd keeps its unix socket.',
    });
  }
  if (mode === 'gateway') {
    if (opts.dryRun) {
      throw new DockwardError('DW_E_USAGE', '--dry-run is not supported with --mode gateway yet', {
        hint: 'Leave out --dry-run; gateway mode does not change daemon.json.',
      });
    }
    return initGatewayHost({
      paths: ctx.paths,
      passphrase: cliPassphraseSource(),
      ...(opts.san && opts.san.length > 0 ? { sans: opts.san } : {}),
      ...(opts.name ? { serverName: opts.name } : {}),
      ...(opts.allow && opts.allow.length > 0 ? { allow: opts.allow } : {}),
      listen: opts.listen,
      configPath: opts.config,
      progress: (line) => ctx.out.info(line),
    });
  }
  return initHost({
    paths: ctx.paths,
    passphrase: cliPassphraseSource(),
    ...(opts.san && opts.san.length > 0 ? { sans: opts.san } : {}),
    ...(opts.name ? { serverName: opts.name } : {}),
    ...(opts.allow && opts.allow.length > 0 ? { allow: opts.allow } : {}),
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
    progress: (line) => ctx.out.info(line),
  });
}

/** The plan (what a dry run stops at), then for a real run the apply summary, the TLS checks and how to connect. */
export function renderInit(r: InitResult | GatewayInitResult): string {
  if ('mode' in r) return renderGatewayInit(r);
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
    ...(p.allow.length > 0
      ? [
          `  firewall     ${p.listen.port}/tcp only from ${p.allow.join(', ')} and loopback (nftables table inet dockward)`,
        ]
      : []),
    ...p.warnings.map((w) => `  warning      ${w}`),
  ];
  if (r.dryRun) {
    return [...plan, ...(p.diff ? ['', p.diff.trimEnd()] : []), '', 'dry run: nothing was changed'].join(
      '\n',
    );
  }
  // The plan's warnings, the apply's own TLS checks and the socket-group warning come back in the
  // apply summary: each line is printed once, where it first appears.
  return onceEach([
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
  ]);
}

/** Joins the lines, leaving out every non-blank line already printed above it. */
function onceEach(blocks: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of blocks.join('\n').split('\n')) {
    if (line.trim() !== '' && seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  return out.join('\n');
}

function renderGatewayInit(r: GatewayInitResult): string {
  const at = r.listen.address.includes(':') ? `[${r.listen.address}]` : r.listen.address;
  return [
    `secured ${r.hostname}: dockward gateway on ${at}:${r.listen.port}, dockerd on its unix socket only`,
    `  gateway cert ${r.server} (${r.sans.join(', ')}) in ${r.tlsDir}`,
    `  admin cert   ${r.admin} (client, OU admin)`,
    `  audit log    ${r.auditLog}`,
    `  clients from ${r.allow.join(', ')} (and loopback)`,
    `  revocation   enforced: after dockward pki revoke, copy the CRL to ${r.tlsDir}/crl.pem and systemctl reload ${r.service.unit}`,
    ...r.tls.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}         ${c.what}: ${c.actual}`),
    '',
    renderInstall(r.service),
    '',
    'Connect from a client that has the admin certificate folder:',
    ...r.connect.env.map((l) => `  ${l}`),
    'or as a docker context:',
    `  ${r.connect.context}`,
  ].join('\n');
}
