import { readFile } from 'node:fs/promises';
import { DockwardError, describeError } from '../errors.js';
import { builtinDecider } from './builtin-roles.js';
import { type CompiledPolicy, compilePolicy } from './compile.js';

import { BUILTIN_POLICY_NAME } from './builtin-name.js';

export { BUILTIN_POLICY_NAME };

/** Reads a file the policy commands need (a policy, a request body), failing with a fix. */
export async function readPolicyInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DockwardError('DW_E_FILE', `cannot read ${what} ${file}: ${describeError(err)}`, {
      hint: `Check the path; write "${BUILTIN_POLICY_NAME}" to use the built-in roles.`,
      cause: err,
    });
  }
}

/** Loads and compiles a policy file (or the built-in roles for "builtin"); throws DW_E_POLICY when invalid. */
export async function loadPolicyDecider(file: string): Promise<CompiledPolicy> {
  if (file === BUILTIN_POLICY_NAME) return builtinDecider();
  const text = await readPolicyInput(file, 'policy file');
  return compilePolicy(text.toString('utf8'), file);
}
