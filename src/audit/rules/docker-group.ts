/** Who is effectively root through the socket's group. */
import type { AuditRule } from '../model.js';
import { pass, factValue, warn } from './rule-support.js';

export const dockerGroupMembers: AuditRule = {
  id: 'docker-group-members',
  severity: 'medium',
  area: 'host',
  title: 'Members of the Docker socket group are known (each is effectively root)',
  rationale:
    'Writing to the Docker socket is root on the host: every member of its group can start a privileged container. The list should hold only administrators.',
  remediation:
    'gpasswd -d <user> docker for each member who should not be root (let others in through the dockward gateway with a client certificate and a policy)',
  needs: ['dockerGroup'],
  check(facts) {
    const { group, members } = factValue(facts.dockerGroup);
    if (members.length === 0) return pass(`group ${group} has no members`);
    return warn(
      [`group ${group}: ${members.join(', ')} — each can run anything as root through the socket`],
      members.map((m) => `gpasswd -d ${m} ${group}`).join(' && '),
    );
  },
};
