/**
 * The built-in roles, written in the policy language itself and compiled by the same engine as
 * a policy file, so there is one evaluator. Policy files may name these roles (`role: operator`,
 * `extends: operator`) but not redefine them. docs/policy.md explains each choice. The gateway
 * runs them from their parsed and validated snapshot: after a change here, run
 * `node --import tsx scripts/gen-builtin-policy.ts` (builtin-policy-data.test.ts says so).
 */
export const BUILTIN_POLICY_YAML = `# dockward built-in roles (used when the gateway runs without --policy)
version: 1
description: A client certificate's OU names its role; no or an unknown OU gets readonly (fail closed).
identities:
  - match: { ou: admin }
    role: admin
  - match: { ou: operator }
    role: operator
  - match: { ou: readonly }
    role: readonly
defaultRole: readonly

roles:
  readonly:
    description: Reads that leak nothing - no file contents, process I/O, environment, exec or join tokens.
    allow:
      - id: harmless-reads
        endpoints: ['@reads']
        reason: a read that leaks nothing

  operator:
    own: true
    description: Container, image, volume and network lifecycle on its own objects (the gateway's owner label); never privileged, host mounts, host namespaces, extra capabilities, devices or switched-off confinement.
    extends: readonly
    allow:
      - id: containers
        endpoints: ['container.*', 'exec.*']
        reason: container lifecycle
      - id: images
        endpoints: ['image.*', build, 'build.*', distribution.inspect, system.auth, session]
        reason: image lifecycle
      - id: volumes
        endpoints: ['volume.*']
        reason: volume lifecycle
      - id: networks
        endpoints: ['network.*']
        reason: network lifecycle
    deny:
      - id: no-privileged
        endpoints: ['*']
        when: { privileged: true }
        reason: privileged containers and execs are not allowed for operators
      - id: no-host-mounts
        endpoints: ['*']
        when: { hostMounts: any }
        reason: host paths may not be mounted by operators, use named volumes
      - id: no-host-namespaces
        endpoints: ['*']
        when: { hostNamespaces: any }
        reason: operators may not share the host's namespaces
      - id: no-extra-capabilities
        endpoints: ['*']
        when: { capAdd: { except: docker-default } }
        reason: operators may add only capabilities of Docker's default set
      - id: no-devices
        endpoints: ['*']
        when: { devices: true }
        reason: operators may not give containers host devices
      - id: no-unconfined
        endpoints: ['*']
        when: { unconfined: any }
        reason: operators may not switch off seccomp, AppArmor, SELinux labels or masked paths
      - id: no-checkpoints
        endpoints: ['container.checkpoint.*']
        reason: checkpoints (CRIU) are for admins only

  admin:
    description: Every endpoint; still audited.
    fetch: any
    allow:
      - id: all
        endpoints: ['*']
        reason: admin may call every endpoint
`;
