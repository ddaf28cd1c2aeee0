/** Gateway configuration: the file of MVSEC_GATEWAY_CONFIG and the MVSEC_GATEWAY_* overrides (config/). */
export * from './config/load.js';
export type { FabricNetwork, GatewayOrganization, GatewayPeer, FabricCaConfig } from './config/schema.js';
