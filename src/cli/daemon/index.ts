import { Command, Option } from 'commander';
import { PROFILE_NAMES } from '../../daemon/profiles.js';
import { DEFAULT_PROCESS_LOG } from '../../daemon/restart.js';
import { contextOf } from '../context.js';
import { secondsOf } from '../options.js';
import { type DaemonApplyOptions, daemonApply, renderApply } from './apply.js';
import { type DaemonHardenOptions, daemonHarden, renderDaemonHarden } from './harden.js';
import { hostFlags } from './host-options.js';
import { type DaemonShowOptions, daemonShow, renderDaemonShow } from './show.js';
import { type DaemonStatusOptions, daemonStatusCommand, renderDaemonStatus } from './status.js';
import {
  type DaemonValidateOptions,
  daemonValidate,
  daemonValidateData,
  renderDaemonValidate,
} from './validate.js';

const REMOTE_TLS = {
  certDir: 'remote-tls: folder of the server TLS files (default /etc/docker/tls)',
  listen: 'remote-tls: TLS listener (default 0.0.0.0:2376)',
  plainTcp: 'accept a tcp listener without TLS client verification (never outside a lab)',
};

/** `dockward daemon show|status|harden|validate|apply`: declarations only. */
export function daemonCommand(): Command {
  const daemon = new Command('daemon').description(
    'dockerd configuration: show and check daemon.json, harden it with a profile, apply it with a restart and rollback.',
  );

  hostFlags(daemon.command('show'))
    .description(
      'The effective configuration: daemon.json merged with the dockerd command line, each key with its source.',
    )
    .option('--all', "include dockerd's defaults for keys nobody set")
    .action(async (opts: DaemonShowOptions, cmd: Command) => {
      contextOf(cmd).out.result(await daemonShow(opts), renderDaemonShow);
    });

  hostFlags(daemon.command('status'))
    .description('Is dockerd running: pid, version, effective configuration, socket, last log lines.')
    .option('--host <url>', 'where to ask /version (default: the first unix socket configured)')
    .option(
      '--log-file <path>',
      'log of a dockerd not run by systemd (default: the file its output is open on)',
    )
    .option('--lines <n>', 'log lines to show', (v) => Number.parseInt(v, 10), 20)
    .action(async (opts: DaemonStatusOptions, cmd: Command) => {
      contextOf(cmd).out.result(await daemonStatusCommand(opts), renderDaemonStatus);
    });

  hostFlags(daemon.command('harden'))
    .description(
      'Merge a hardening profile into daemon.json: report each change and conflict; --write writes it after a backup.',
    )
    .option('--profile <name>', PROFILE_NAMES.join(' | '), 'baseline')
    .option('--diff', 'print a unified diff')
    .option('--write', 'write the result atomically after a timestamped backup')
    .option('--cert-dir <dir>', REMOTE_TLS.certDir)
    .option('--listen <host:port>', REMOTE_TLS.listen)
    .option('--allow-plain-tcp', REMOTE_TLS.plainTcp)
    .action(async (opts: DaemonHardenOptions, cmd: Command) => {
      contextOf(cmd).out.result(await daemonHarden(opts), (r) => renderDaemonHarden(r, opts));
    });

  hostFlags(daemon.command('validate'))
    .description(
      'Check daemon.json as dockerd would (keys, types, flag conflicts, semantics, TLS files), then dockerd --validate when it has it (>= 23).',
    )
    .option('--allow-plain-tcp', 'accept a tcp listener without TLS client verification')
    .action(async (opts: DaemonValidateOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const report = await daemonValidate(ctx, opts);
      ctx.out.result(daemonValidateData(report), () => renderDaemonValidate(report));
    });

  hostFlags(daemon.command('apply'))
    .description(
      'Validate, back up, write, restart dockerd, wait for /_ping, verify through /info; roll back on any failure.',
    )
    .addOption(new Option('--from <file>', 'a prepared daemon.json to put in place').conflicts('profile'))
    .option('--profile <name>', `harden the current file with a profile: ${PROFILE_NAMES.join(' | ')}`)
    .option('--restart <mode>', 'systemd | process | none (default: detected)', 'auto')
    .option(
      '--host <url>',
      'where dockerd answers after the restart (default: the first unix socket configured)',
    )
    .option(
      '--log-file <path>',
      `process mode: where the restarted dockerd's output goes (default ${DEFAULT_PROCESS_LOG})`,
    )
    .option('--cert-dir <dir>', REMOTE_TLS.certDir)
    .option('--listen <host:port>', REMOTE_TLS.listen)
    .option('--allow-plain-tcp', REMOTE_TLS.plainTcp)
    .option(
      '--skip-checks',
      "write even when dockward's checks refuse the file; dockerd decides and a failed start is rolled back",
    )
    .option('--timeout <seconds>', 'how long dockerd may take to answer after the restart', secondsOf, 90)
    .action(async (opts: DaemonApplyOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await daemonApply(ctx, opts), renderApply);
    });

  return daemon;
}
