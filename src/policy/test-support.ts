/** Helpers for the policy unit tests: requests built the way the gateway builds them. */
import assert from 'node:assert/strict';
import { findEndpointByName } from '../docker/endpoints/index.js';
import { canonicalBody } from './canonical-body.js';
import type { DecisionInput, PolicyIdentity } from './decision.js';

export const OPERATOR: PolicyIdentity = { cn: 'olivia', ou: ['operator'], serial: '0a1b', sans: [] };

export interface RequestSpec {
  /** A JSON body, canonicalized as the gateway does (must be accepted). */
  body?: unknown;
  query?: string;
  path?: string;
  identity?: PolicyIdentity;
}

/** A decision input for an endpoint, with the canonical body of `spec.body`. */
export function input(endpointName: string, spec: RequestSpec = {}): DecisionInput {
  const endpoint = findEndpointByName(endpointName);
  assert.ok(endpoint, `unknown endpoint ${endpointName}`);
  let body: unknown;
  if (spec.body !== undefined) {
    const res = canonicalBody(endpoint, Buffer.from(JSON.stringify(spec.body)), 'application/json');
    assert.ok(res.ok, `test body refused: ${res.ok ? '' : res.reason}`);
    body = res.value;
  }
  return {
    identity: spec.identity ?? OPERATOR,
    endpoint,
    method: endpoint.method,
    path: spec.path ?? endpoint.path,
    params: {},
    query: new URLSearchParams(spec.query ?? ''),
    ...(body !== undefined ? { body } : {}),
  };
}
