import { DockwardError } from '../errors.js';
import type { PassphraseSource } from '../pki/store.js';

export const PASSPHRASE_ENV = 'DOCKWARD_CA_PASSPHRASE';

/**
 * The CLI's passphrase source: `DOCKWARD_CA_PASSPHRASE` when set (CI, scripts), else a prompt on
 * the terminal with echo off (asked twice for a new one). With neither, fails closed.
 */
export function cliPassphraseSource(env: NodeJS.ProcessEnv = process.env): PassphraseSource {
  return async (purpose) => {
    const fromEnv = env[PASSPHRASE_ENV];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (!process.stdin.isTTY) {
      throw new DockwardError(
        'DW_E_PASSPHRASE',
        'the CA key needs a passphrase and there is no terminal to ask on',
        {
          hint: `Set ${PASSPHRASE_ENV} in the environment.`,
        },
      );
    }
    const first = await promptHidden(purpose === 'new' ? 'New CA key passphrase: ' : 'CA key passphrase: ');
    if (purpose === 'new') {
      if (first.length < 8) {
        throw new DockwardError('DW_E_PASSPHRASE', 'the passphrase is shorter than 8 characters', {
          hint: 'Choose a longer passphrase.',
        });
      }
      const again = await promptHidden('Repeat the passphrase: ');
      if (again !== first) {
        throw new DockwardError('DW_E_PASSPHRASE', 'the two passphrases differ', {
          hint: 'Run the command again.',
        });
      }
    }
    return first;
  };
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new DockwardError('DW_E_PASSPHRASE', 'interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
