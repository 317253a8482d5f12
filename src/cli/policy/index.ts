import { Command } from 'commander';
import { contextOf } from '../context.js';
import { collect } from '../options.js';
import { policyCheck, renderPolicySummary } from './check.js';
import { explainFailure, type PolicyExplainOptions, policyExplain, renderVerdict } from './explain.js';

/** `dockward policy check|explain`: declarations only. */
export function policyCommand(): Command {
  const policy = new Command('policy').description(
    'Check a policy file, or explain the decision for one request (FILE may be "builtin").',
  );

  policy
    .command('check <file>')
    .description('Validate a policy file: exit 0 with a summary, or exit 2 naming file:line:col and the fix.')
    .option(
      '--strict',
      'also fail (exit 2) when a role other than admin can reach host power (see docs/policy.md)',
    )
    .action(async (file: string, opts: { strict?: boolean }, cmd: Command) => {
      contextOf(cmd).out.result(
        await policyCheck({ file, strict: opts.strict === true }),
        renderPolicySummary,
      );
    });

  policy
    .command('explain <file>')
    .description('Print the decision for one request, the role and the rule that made it (like `opa eval`).')
    .requiredOption('--identity <cn>', 'the client certificate CN')
    .option('--ou <ou>', 'a certificate OU (repeatable)', collect, [])
    .option('--serial <hex>', 'the certificate serial')
    .option('--san <san>', 'a certificate SAN, DNS:name or IP:addr (repeatable)', collect, [])
    .requiredOption('--request <line>', "the request line, e.g. 'POST /v1.41/containers/create'")
    .option('--body <file>', 'the request body, read as the gateway reads it ("-" for stdin)')
    .option('--content-type <type>', 'the Content-Type sent with --body', 'application/json')
    .option('--exit-code', 'exit 1 when the request would be denied or refused')
    .action(async (file: string, flags: Omit<PolicyExplainOptions, 'file'>, cmd: Command) => {
      const opts = { file, ...flags };
      const { data, verdict } = await policyExplain(opts);
      contextOf(cmd).out.result(data, (d) => renderVerdict(d, verdict));
      const failure = explainFailure(opts, verdict);
      if (failure) throw failure;
    });

  return policy;
}
