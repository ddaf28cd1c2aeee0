/**
 * Facts about the network this chaincode is deployed on. Peer organisations can endorse (they
 * are the only MSPs usable in key-level endorsement policies and own the PII collections).
 */
export const PEER_ORG_MSPS: readonly string[] = ['IoTPlatformMSP', 'MetaverseAMSP', 'MetaverseBMSP'];

/** The private data collection holding PII written by members of `mspId` (see chaincode/collections.json). */
export function piiCollectionFor(mspId: string): string {
  return `pii_${mspId}`;
}

/** The one organisation whose peers hold (and alone may endorse) `collection` (pii_<MSP>, see collections.json). */
export function piiCollectionMember(collection: string): string {
  return collection.startsWith('pii_') ? collection.slice('pii_'.length) : '';
}

export function isPeerOrg(mspId: string): boolean {
  return PEER_ORG_MSPS.includes(mspId);
}

/** Organisations running an IoT platform, a metaverse platform, a DPM platform (defaults of trust rule 1). */
export const IOT_ORG_MSPS: readonly string[] = ['IoTPlatformMSP'];
export const METAVERSE_ORG_MSPS: readonly string[] = ['MetaverseAMSP', 'MetaverseBMSP'];
export const DPM_ORG_MSPS: readonly string[] = ['DPMProviderMSP'];

/** Any member of the channel may issue the role. */
export const ANY_MEMBER = '*';

/**
 * Trust rule 1 (roles are bound to organisations): which organisations' CAs may issue each role,
 * used while the ledger holds no `settings~roles` record (governance contract), so the network
 * works right after deployment. Functional roles are designated per network: monitors and
 * auditors only from the peer organisations, `dpm` only from organisations running a DPM
 * platform, agents only from IoT (things) or metaverse (avatars) organisations; the levels
 * admin/creator/user from any member. Changed only by a majority of the peer organisations'
 * admins (`governance:ProposeRoleIssuers` + `ApproveRoleIssuers`).
 */
export const DEFAULT_ROLE_ISSUERS: Readonly<Record<string, readonly string[]>> = {
  admin: [ANY_MEMBER],
  creator: [ANY_MEMBER],
  user: [ANY_MEMBER],
  auditor: PEER_ORG_MSPS,
  monitor: PEER_ORG_MSPS,
  dpm: DPM_ORG_MSPS,
  'thing-agent': IOT_ORG_MSPS,
  'avatar-agent': METAVERSE_ORG_MSPS,
  'entity-agent': [ANY_MEMBER],
  'storage-agent': [ANY_MEMBER],
};

/** Approvals a governance change needs: a majority of the peer organisations (2 of 3). */
export const GOVERNANCE_MAJORITY = Math.floor(PEER_ORG_MSPS.length / 2) + 1;

/** Upper bounds that keep every transaction's read and write sets small. */
export const LIMITS = {
  idLength: 128,
  textLength: 1024,
  publicKeyLength: 4096,
  listLength: 64,
  jobInputs: 100,
  pageSize: 200,
  historyEntries: 500,
  transferLifetimeMs: 30 * 24 * 3600 * 1000,
  grantLifetimeMs: 366 * 24 * 3600 * 1000,
} as const;

/**
 * Time (rule 2, docs/chaincode.md "What time means"). `maxSkewMs` bounds how far a proposal's
 * timestamp may be from each endorser's clock, and is the margin every expiry decision keeps on
 * its safe side. It is a constant of the chaincode package on purpose: every peer must apply the
 * same value (it feeds decisions such as "a grant expiring at T is refused from T − skew"), and
 * a changed value is a new package that the organisations approve through chaincode lifecycle,
 * i.e. by the channel's majority. Not an environment variable: peers could then disagree.
 */
export const TIME = {
  maxSkewMs: 300_000,
} as const;

/** Name of the single chaincode event emitted by every state-changing transaction. */
export const EVENT_NAME = 'mvsec.activity';
