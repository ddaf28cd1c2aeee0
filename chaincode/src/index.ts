// Record types carry @Object metadata; import them for their side effect so GetMetadata lists
// every type even where a contract only uses them as TypeScript types (imports elided).
import './auth/identity';
import './access/grant-types';
import './alert/alert-types';
import './audit/activity-types';
import './avatar/avatar-types';
import './data/data-types';
import './dpm/dpm-types';
import './governance/governance-types';
import './identity/principal-key';
import './platform/platform-types';
import './thing/thing-types';
import './transfer/transfer-types';
import { AccessContract } from './access/access-contract';
import { AlertContract } from './alert/alert-contract';
import { AuditContract } from './audit/audit-contract';
import { AvatarContract } from './avatar/avatar-contract';
import { BenchContract } from './bench/bench-contract';
import { DataContract } from './data/data-contract';
import { DiagnosticsContract } from './diagnostics/diagnostics-contract';
import { DpmContract } from './dpm/dpm-contract';
import { GovernanceContract } from './governance/governance-contract';
import { IdentityContract } from './identity/identity-contract';
import { PlatformContract } from './platform/platform-contract';
import { ThingContract } from './thing/thing-contract';
import { TransferContract } from './transfer/transfer-contract';
import { serializers } from './common/wire-serializer';

export {
  AccessContract,
  AlertContract,
  AuditContract,
  AvatarContract,
  BenchContract,
  DataContract,
  DiagnosticsContract,
  DpmContract,
  GovernanceContract,
  IdentityContract,
  PlatformContract,
  ThingContract,
  TransferContract,
};

/** Every contract the chaincode serves; fabric-chaincode-node reads this export. */
export const contracts: unknown[] = [
  DiagnosticsContract,
  PlatformContract,
  ThingContract,
  AvatarContract,
  AccessContract,
  TransferContract,
  DataContract,
  DpmContract,
  AuditContract,
  AlertContract,
  BenchContract,
  GovernanceContract,
  IdentityContract,
];

/** Result serialization (sorted-key JSON); fabric-chaincode-node reads this export. */
export { serializers };
