import { allow, deny, type PolicyTable } from '../auth/decision';
import { type Caller, describe } from '../auth/identity';
import { GOVERNANCE_MAJORITY, isPeerOrg, PEER_ORG_MSPS } from '../common/config';

const governs = (verb: string) => (caller: Caller) =>
  caller.role === 'admin' && isPeerOrg(caller.mspId)
    ? allow(`admin of peer organisation ${caller.mspId}`)
    : deny(
        `${verb} ledger settings needs an admin of a peer organisation (${PEER_ORG_MSPS.join(', ')}; ${GOVERNANCE_MAJORITY} of ${PEER_ORG_MSPS.length} must approve); caller is ${describe(caller)}`,
      );

/**
 * Governance of ledger-wide settings (trust rule 1: the role issuers):
 * - an admin of a peer organisation proposes a change (its own approval) or approves one, each
 *   organisation once; the change applies at a majority of the peer organisations;
 * - every member with a recognised role reads the setting and its proposals.
 */
export const governancePolicy = {
  'governance.propose': governs('proposing a change of'),
  'governance.approve': governs('approving a change of'),
  'governance.read': (caller) => allow(`${caller.role} of ${caller.mspId}: the role issuers are readable by every member with a role`),
} satisfies PolicyTable;
