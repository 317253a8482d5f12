/** The gateway's tamper-evident audit log: records, the writer and the verifier. */
export { canonicalJson, sealRecord, sha256Hex } from './chain.js';
export * from './record.js';
export { readLogTail } from './tail.js';
export {
  type TornLine,
  type VerifiedFile,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyResult,
  describeProblem,
  resolveLogFiles,
  verifyAuditLog,
} from './verify.js';
export {
  type AuditListener,
  type AuditLogOpenState,
  type AuditLogOptions,
  AuditLogWriter,
  type FsyncPolicy,
} from './writer.js';
