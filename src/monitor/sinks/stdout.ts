/** The stdout sink: one human line per alert, or the alert's JSON (falcosidekick's input) per line. */
import type { Alert, AlertSink } from '../model.js';

/** `2026-01-02T03:04:05.000Z Critical Privileged container: <output>` */
export function formatAlertLine(alert: Alert): string {
  return `${alert.time} ${alert.priority} ${alert.rule}: ${alert.output.replace(/[\r\n]+/g, ' ')}`;
}

/** Writes alerts to a stream (stdout by default). */
export class StdoutSink implements AlertSink {
  readonly name = 'stdout';
  constructor(
    private readonly json: boolean,
    private readonly out: { write(chunk: string): unknown } = process.stdout,
  ) {}

  async deliver(alert: Alert): Promise<void> {
    this.out.write(`${this.json ? JSON.stringify(alert) : formatAlertLine(alert)}\n`);
  }

  async close(): Promise<void> {}
}
