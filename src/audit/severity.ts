// Severity parsing on its own: the CLI's option parsers need it without loading every audit rule.
import { DockwardError } from '../errors.js';
import { closestName } from '../text/closest-name.js';
import { SEVERITIES, type Severity } from './model.js';

/** True for a known severity name. */
export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Parses a `--fail-on` value; throws DW_E_USAGE naming the accepted levels. */
export function parseSeverity(value: string, flag = '--fail-on'): Severity {
  const v = value.trim().toLowerCase();
  if (isSeverity(v)) return v;
  const near = closestName(v, SEVERITIES);
  throw new DockwardError('DW_E_USAGE', `${flag}: unknown level "${value}"`, {
    hint: `${near ? `Did you mean "${near}"? ` : ''}Levels: ${SEVERITIES.join(', ')}.`,
  });
}
