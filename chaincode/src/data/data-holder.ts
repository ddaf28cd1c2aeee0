import type { Avatar } from '../avatar/avatar-types';
import type { DataAnchor } from './data-types';

/**
 * Who holds a data object on the ledger (trust rules 3 and 5):
 * - data anchored at an avatar (`avatarId`) is held by that avatar, i.e. by its metaverse and the
 *   metaverse's MSP — whoever anchored it there put the bytes in that metaverse's keeping;
 * - thing-level data (no `avatarId`) is held by the thing's owner organisation (`ownerMspId`) and by
 *   the organisation that anchored it (`anchoredBy.mspId`, whose store the anchor's `storage` names).
 * Nothing else on the ledger makes a party a holder: having an avatar of the same thing does not.
 */
export interface DataHolder {
  /** the avatar the data was anchored at, when it was */
  avatar?: Avatar;
  /** the organisations holding the data */
  mspIds: string[];
  /**
   * the one organisation other than the owner's that holds the data (the avatar's metaverse, or a
   * non-owner organisation that anchored thing-level data); undefined when the owner's organisation
   * alone holds it
   */
  keeperMspId?: string;
  /** for reasons: `avatar av-1 of mv-a (MetaverseAMSP)` or `IoTPlatformMSP (the owner's organisation)` */
  text: string;
}

/** The holder of `data`; `avatar` is the record of `data.avatarId` (loaded by the caller) when the data has one. */
export function holderOf(data: DataAnchor, avatar: Avatar | undefined): DataHolder {
  if (data.avatarId) {
    if (!avatar || avatar.avatarId !== data.avatarId) throw new Error(`holderOf(${data.dataId}) needs avatar ${data.avatarId}`);
    return {
      avatar,
      mspIds: [avatar.mspId],
      keeperMspId: avatar.mspId,
      text: `avatar ${avatar.avatarId} of ${avatar.metaverseId} (${avatar.mspId})`,
    };
  }
  const anchoring = data.anchoredBy.mspId;
  if (anchoring === data.ownerMspId) {
    return { mspIds: [data.ownerMspId], text: `${data.ownerMspId} (the owner's organisation)` };
  }
  return {
    mspIds: [data.ownerMspId, anchoring],
    keeperMspId: anchoring,
    text: `${data.ownerMspId} (the owner's organisation) and ${anchoring} (which anchored it)`,
  };
}
