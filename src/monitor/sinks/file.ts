/** The file sink: alerts appended as JSON lines to a file created 0600. */
import { constants, promises as fs } from 'node:fs';
import { DockwardError, describeError } from '../../errors.js';
import type { Alert, AlertSink } from '../model.js';

/** Appends one JSON line per alert; writes happen one at a time, in delivery order. */
export class FileSink implements AlertSink {
  readonly name: string;
  private handle: Promise<fs.FileHandle> | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {
    this.name = `file:${path}`;
  }

  deliver(alert: Alert): Promise<void> {
    const line = `${JSON.stringify(alert)}\n`;
    const next = this.chain.then(async () => {
      const h = await this.open();
      await h.appendFile(line, 'utf8');
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.handle) await (await this.handle.catch(() => undefined))?.close();
    this.handle = undefined;
  }

  private open(): Promise<fs.FileHandle> {
    this.handle ??= (async () => {
      try {
        const h = await fs.open(
          this.path,
          constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
          0o600,
        );
        const st = await h.stat();
        // A new file gets 0600 whatever the umask; an existing one keeps its operator's mode.
        if (st.size === 0) await h.chmod(0o600);
        return h;
      } catch (err) {
        this.handle = undefined;
        throw new DockwardError(
          'DW_E_FILE',
          `cannot open the alert file ${this.path}: ${describeError(err)}`,
          {
            hint: 'Check that the folder exists and is writable.',
            cause: err,
          },
        );
      }
    })();
    return this.handle;
  }
}
