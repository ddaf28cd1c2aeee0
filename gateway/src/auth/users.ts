/**
 * Built-in accounts (A3): scrypt password hashes, TOTP secrets, failed-attempt counters and
 * lockout. Kept in memory and, when a file is configured, persisted sealed with AES-256-GCM.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RoleName } from './schemas.js';
import { seal, unseal, type Sealed } from '../crypto/seal.js';

export interface User {
  username: string;
  mspId: string;
  principal: string;
  role: RoleName;
  passwordHash: string;
  totpSecret?: string;
  /** A secret being enrolled, active once a code from it is confirmed. */
  pendingTotpSecret?: string;
  lastTotpStep?: number;
  /** Legacy whole-account counters (before per-source lockout); cleared at the next sign-in. */
  failedAttempts: number;
  lockedUntil?: number;
  /** Disabled by an admin of its organisation: no sign-in, no token is accepted. */
  disabled?: boolean;
  /** Tokens issued before this time (ms) are refused: set by disable, credential reset and "sign out everywhere". */
  tokensValidFrom?: number;
}

export class UserStore {
  private readonly users = new Map<string, User>();

  constructor(private readonly file?: { path: string; key: Buffer }) {
    if (file && existsSync(file.path)) {
      const sealed = JSON.parse(readFileSync(file.path, 'utf8')) as Sealed;
      const list = JSON.parse(unseal(file.key, sealed, 'mvsec-gateway-users').toString('utf8')) as User[];
      for (const u of list) this.users.set(u.username, u);
    }
  }

  get(username: string): User | undefined {
    return this.users.get(username);
  }

  has(username: string): boolean {
    return this.users.has(username);
  }

  put(user: User): void {
    this.users.set(user.username, user);
    this.persist();
  }

  update(username: string, change: (u: User) => void): void {
    const u = this.users.get(username);
    if (!u) return;
    change(u);
    this.persist();
  }

  remove(username: string): boolean {
    const had = this.users.delete(username);
    if (had) this.persist();
    return had;
  }

  list(): User[] {
    return [...this.users.values()];
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.file.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(seal(this.file.key, JSON.stringify(this.list()), 'mvsec-gateway-users')), { mode: 0o600 });
    renameSync(tmp, this.file.path);
  }
}
