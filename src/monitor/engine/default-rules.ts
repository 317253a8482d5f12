/**
 * The rules `dockward monitor` runs unless told otherwise. A TypeScript string so it ships in
 * dist without a data file; docs/monitor-rules.md explains each rule and how to change it.
 * Container rules fire on `container create` (or a container found by reconciling), so a
 * container is judged once; exec rules on `exec_start`; gateway rules on audit records.
 */

/** How errors in the default rules name their "file". */
export const DEFAULT_RULES_FILE = '(default rules)';

export const DEFAULT_RULES_YAML = `# dockward default monitor rules
- list: allowed_registries
  items: [docker.io]

- list: shell_binaries
  items: [sh, bash, ash, dash, zsh, ksh, mksh, tcsh, csh, fish]

- list: dangerous_capabilities
  items: [ALL, SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, SYS_BOOT, SYSLOG, NET_ADMIN, BPF, PERFMON, DAC_READ_SEARCH]

# Host paths that are sensitive themselves (exact match): mounting them hands over the host.
- list: sensitive_mount_paths
  items: [/, /run, /var/run, /var, /var/lib, /run/docker.sock, /var/run/docker.sock]

# Host folders that are sensitive with everything below them.
- list: sensitive_mount_dirs
  items: [/etc, /root, /proc, /boot, /var/lib/docker, /var/lib/containerd, /run/containerd, /var/run/containerd]

- macro: container_created
  condition: docker.type = container and (docker.action = create or container.reconciled = true)

- macro: exec_started
  condition: docker.type = container and docker.action = exec_start and not exec.healthcheck

- macro: gateway_request
  condition: evt.source = gateway and evt.type = request

- macro: gateway_connection
  condition: evt.source = gateway and evt.type = connection

- rule: Privileged container
  desc: A container was created with --privileged; it has every capability and all host devices.
  condition: container_created and container.privileged = true
  output: Privileged container created (container=%container.name id=%container.id image=%container.image daemon=%daemon.origin)
  priority: critical
  tags: [container, privilege_escalation, mitre_privilege_escalation]

- rule: Sensitive host mount
  desc: A container bind-mounts a host path that gives control of the host (the Docker or containerd socket, /, /etc, /root, /proc, /var/lib/docker).
  condition: >-
    container_created and (container.mounts in (sensitive_mount_paths)
    or container.mounts pmatch (sensitive_mount_dirs)
    or container.mounts endswith "/docker.sock" or container.mounts endswith "/containerd.sock")
  output: Container with a sensitive host mount created (container=%container.name id=%container.id image=%container.image mounts=%container.mounts daemon=%daemon.origin)
  priority: critical
  tags: [container, mount, mitre_privilege_escalation]

- rule: Host namespace shared
  desc: A container shares the host's network, PID, IPC or UTS namespace.
  condition: >-
    container_created and (container.network_mode = host or container.pid_mode = host
    or container.ipc_mode = host or container.uts_mode = host)
  output: Container sharing a host namespace created (container=%container.name id=%container.id image=%container.image network=%container.network_mode pid=%container.pid_mode ipc=%container.ipc_mode daemon=%daemon.origin)
  priority: warning
  tags: [container, namespace, mitre_privilege_escalation]

- rule: Dangerous capability added
  desc: A container was created with a capability that allows escaping it or taking over the host network.
  condition: container_created and container.cap_add in (dangerous_capabilities)
  output: Container with a dangerous capability created (container=%container.name id=%container.id image=%container.image cap_add=%container.cap_add daemon=%daemon.origin)
  priority: warning
  tags: [container, capabilities, mitre_privilege_escalation]

- rule: Terminal shell in container
  desc: An interactive shell (exec with a terminal) was started in a container.
  condition: exec_started and exec.tty = true and exec.process in (shell_binaries)
  output: Terminal shell started in a container (container=%container.name id=%container.id cmdline=%exec.cmdline user=%exec.effective_user daemon=%daemon.origin)
  priority: notice
  tags: [container, shell, mitre_execution]

- rule: Exec as root or privileged
  desc: A command was executed in a container as root (no -u, or -u root/0) or with --privileged. Health checks are excluded.
  condition: exec_started and (exec.privileged = true or exec.effective_user = root)
  output: Command executed in a container as root or privileged (container=%container.name id=%container.id cmdline=%exec.cmdline user=%exec.effective_user privileged=%exec.privileged daemon=%daemon.origin)
  priority: notice
  tags: [container, exec, mitre_execution]

- rule: Image from untrusted registry
  desc: A container was created from an image whose registry is not in the allowed_registries list (an unqualified name such as testbox:latest is docker.io, as Docker resolves it).
  condition: container_created and image.registry exists and not image.registry in (allowed_registries)
  output: Container created from an image outside the allowed registries (container=%container.name id=%container.id image=%container.image registry=%image.registry daemon=%daemon.origin)
  priority: warning
  tags: [container, image, supply_chain]

- rule: Burst of policy denials
  desc: One identity had many requests denied by the gateway policy in a short time (probing what it may do).
  condition: gateway_request and req.decision = deny
  rate: { count: 5, within: 60s, by: user.identity }
  throttle: { within: 5m, by: user.identity }
  output: Burst of policy denials (identity=%user.identity address=%client.address last_endpoint=%req.endpoint last_rule=%req.rule)
  priority: warning
  tags: [gateway, policy, mitre_discovery]

- rule: Connection scanning
  desc: One address had many TLS handshakes refused or was denied by the address allowlist in a short time.
  condition: gateway_connection and conn.event in (handshake-failed, denied-address)
  rate: { count: 5, within: 60s, by: client.address }
  throttle: { within: 5m, by: client.address }
  output: Repeated refused connections from one address (address=%client.address last_event=%conn.event last_reason=%conn.reason)
  priority: warning
  tags: [gateway, network, mitre_discovery]

- rule: Identity from new address
  desc: A client certificate connected from an address it has not used before (the first address of each identity is learned silently).
  condition: gateway_connection and conn.event = accepted and user.identity exists
  new_value: { of: client.address, by: user.identity }
  output: Identity connected from a new address (identity=%user.identity address=%client.address serial=%user.serial)
  priority: notice
  tags: [gateway, identity, mitre_initial_access]

- rule: Revoked certificate used
  desc: A client tried to connect with a revoked certificate.
  condition: gateway_connection and conn.event = handshake-failed and conn.reason icontains revoked
  throttle: { within: 10m, by: [client.address, user.serial] }
  output: Connection attempt with a revoked certificate (address=%client.address identity=%user.identity serial=%user.serial reason=%conn.reason)
  priority: warning
  tags: [gateway, identity, mitre_initial_access]

- rule: Daemon configuration reloaded
  desc: dockerd reloaded its configuration (SIGHUP or a daemon.json change); settings such as registries or log drivers may have changed.
  condition: docker.type = daemon and docker.action = reload
  output: Docker daemon reloaded its configuration (daemon=%daemon.origin id=%docker.actor_id)
  priority: notice
  tags: [daemon, configuration]
`;
