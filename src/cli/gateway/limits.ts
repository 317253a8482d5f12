import { DockwardError } from '../../errors.js';
import { DEFAULT_LIMITS, type GatewayLimits } from '../../gateway/limits.js';

/** The limit flags of `dockward gateway`, as commander gives them. */
export interface LimitFlags {
  maxConnections: string;
  maxConnectionsPerIdentity: string;
  maxHandshakes: string;
  bodyTimeout: string;
  bodyMemory: string;
  maxStreamsPerIdentity: string;
  jsonMaxKeys: string;
  jsonMaxDepth: string;
}

export const LIMIT_DEFAULTS: LimitFlags = {
  maxConnections: String(DEFAULT_LIMITS.maxConnections),
  maxConnectionsPerIdentity: String(DEFAULT_LIMITS.maxConnectionsPerIdentity),
  maxHandshakes: String(DEFAULT_LIMITS.maxHandshakes),
  bodyTimeout: String(DEFAULT_LIMITS.bodyTimeoutMs),
  bodyMemory: String(DEFAULT_LIMITS.bodyMemory),
  maxStreamsPerIdentity: String(DEFAULT_LIMITS.maxStreamsPerIdentity),
  jsonMaxKeys: String(DEFAULT_LIMITS.json.maxKeys),
  jsonMaxDepth: String(DEFAULT_LIMITS.json.maxDepth),
};

function whole(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new DockwardError('DW_E_USAGE', `${flag} "${text}" is not a whole number from ${min} up`, {
      hint: `Give a number, e.g. ${flag} ${min === 0 ? 30000 : 64}; \`dockward gateway --help\` shows each default.`,
    });
  }
  return n;
}

/** The limits the flags ask for (usage error on a malformed one, before anything listens). */
export function limitsFromFlags(f: LimitFlags): GatewayLimits {
  return {
    maxConnections: whole(f.maxConnections, '--max-connections', 1),
    maxConnectionsPerIdentity: whole(f.maxConnectionsPerIdentity, '--max-connections-per-identity', 1),
    maxHandshakes: whole(f.maxHandshakes, '--max-handshakes', 1),
    handshakeQueue: DEFAULT_LIMITS.handshakeQueue,
    bodyTimeoutMs: whole(f.bodyTimeout, '--body-timeout', 0),
    bodyMemory: whole(f.bodyMemory, '--body-memory', 1024 * 1024),
    maxStreamsPerIdentity: whole(f.maxStreamsPerIdentity, '--max-streams-per-identity', 1),
    json: {
      maxKeys: whole(f.jsonMaxKeys, '--json-max-keys', 1),
      maxDepth: whole(f.jsonMaxDepth, '--json-max-depth', 1),
    },
  };
}
