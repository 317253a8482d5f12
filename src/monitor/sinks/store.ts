/**
 * The event-store sink (`--sink store:sqlite:FILE` or `store:postgres://...`): each alert becomes
 * a row the console's alerts page reads. Alerts keep their uuid, so a retried delivery stays one row.
 */
import { hostname } from 'node:os';
import type { EventStore } from '../../events/model.js';
import { openEventStore } from '../../events/open.js';
import type { Alert, AlertSink } from '../model.js';

export class EventStoreSink implements AlertSink {
  readonly name: string;
  private store: Promise<EventStore> | undefined;

  constructor(private readonly url: string) {
    // Never name a postgres password in logs.
    this.name = `store:${url.replace(/\/\/[^@/]*@/, '//***@')}`;
  }

  async deliver(alert: Alert): Promise<void> {
    this.store ??= openEventStore(this.url);
    const store = await this.store.catch((err: unknown) => {
      this.store = undefined; // try again with the next alert
      throw err;
    });
    await store.appendAlerts([
      {
        uuid: alert.uuid,
        time: alert.time,
        rule: alert.rule,
        priority: alert.priority.toLowerCase(),
        output: alert.output,
        host: alert.hostname || hostname(),
        fields: { ...alert.output_fields, source: alert.source, tags: alert.tags },
      },
    ]);
  }

  async close(): Promise<void> {
    const store = await this.store?.catch(() => undefined);
    await store?.close();
    this.store = undefined;
  }
}
