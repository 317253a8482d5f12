import type {
  AuditSink,
  CompletionRecord,
  ConnectionRecord,
  DecisionRecord,
} from '../../../src/gateway/audit-sink.js';

/** An audit sink that keeps records in memory, so tests can assert what the gateway recorded. */
export class MemoryAuditSink implements AuditSink {
  readonly decisions: DecisionRecord[] = [];
  readonly completions: CompletionRecord[] = [];
  readonly connections: ConnectionRecord[] = [];
  async decision(record: DecisionRecord): Promise<void> {
    this.decisions.push(record);
  }
  completion(record: CompletionRecord): void {
    this.completions.push(record);
  }
  connection(record: ConnectionRecord): void {
    this.connections.push(record);
  }
  async close(): Promise<void> {}
}
