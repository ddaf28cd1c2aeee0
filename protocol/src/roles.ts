/**
 * Roles carried in the `role` attribute of a principal's X.509 certificate (A2). Multi-level rights
 * user < creator < admin; the others are functional roles.
 */
export const ROLES = [
  'admin',
  'creator',
  'user',
  'auditor',
  'thing-agent',
  'avatar-agent',
  'entity-agent',
  'storage-agent',
  'dpm',
  'monitor',
] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);
