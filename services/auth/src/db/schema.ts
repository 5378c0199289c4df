import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable("users", {
  id: uuid("id").primaryKey(),
  /** Canonical form: trimmed and lower-cased. */
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  fullName: text("full_name"),
  locale: text("locale", { enum: ["es", "en"] })
    .notNull()
    .default("es"),
  /** Chosen at registration; carried in the access token's `roles` claim. */
  role: text("role", { enum: ["client", "provider"] })
    .notNull()
    .default("client"),
  emailVerifiedAt: ts("email_verified_at"),
  passwordChangedAt: ts("password_changed_at"),
  twoFactorEnabledAt: ts("two_factor_enabled_at"),
  createdAt: ts("created_at").notNull(),
});

/**
 * Failed-login state per canonical email, for unknown emails too, so a lock (and its absence) reveals
 * nothing about which addresses have accounts.
 */
export const loginThrottles = pgTable("login_throttles", {
  email: text("email").primaryKey(),
  failureCount: integer("failure_count").notNull().default(0),
  windowStartedAt: ts("window_started_at").notNull(),
  lockedUntil: ts("locked_until"),
  /** How many locks in a row: each one doubles the next lock's duration, up to the cap. */
  lockCount: integer("lock_count").notNull().default(0),
  lastLockedAt: ts("last_locked_at"),
});

/** One row per login: the family that every refresh token of that login belongs to. */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    amr: jsonb("amr").$type<string[]>().notNull(),
    userAgent: text("user_agent"),
    ip: text("ip"),
    createdAt: ts("created_at").notNull(),
    lastUsedAt: ts("last_used_at").notNull(),
    /** Absolute lifetime end, fixed at login. */
    expiresAt: ts("expires_at").notNull(),
    revokedAt: ts("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    parentId: uuid("parent_id"),
    /** SHA-256 of the token; the token itself exists only in the client's cookie. */
    tokenHash: text("token_hash").notNull(),
    createdAt: ts("created_at").notNull(),
    /** Idle lifetime end: issuance + idle TTL, capped by the session's absolute end. */
    expiresAt: ts("expires_at").notNull(),
    rotatedAt: ts("rotated_at"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_idx").on(t.tokenHash),
    index("refresh_tokens_session_idx").on(t.sessionId),
  ],
);

/** Email verification and password reset tokens, stored as hashes, single use. */
export const oneTimeTokens = pgTable(
  "one_time_tokens",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["verify_email", "reset_password"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: ts("created_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    /** Set when used, or when a newer token of the same purpose voids it. */
    consumedAt: ts("consumed_at"),
  },
  (t) => [
    uniqueIndex("one_time_tokens_hash_idx").on(t.tokenHash),
    index("one_time_tokens_user_purpose_idx").on(t.userId, t.purpose),
  ],
);

/** JWT signing keys. Private keys are sealed with the configured encryption key. */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  alg: text("alg").notNull(),
  publicJwk: jsonb("public_jwk").$type<Record<string, unknown>>().notNull(),
  privateKeySealed: text("private_key_sealed").notNull(),
  createdAt: ts("created_at").notNull(),
  /** When it starts signing (published in the JWKS before, so verifiers know it by then); null: at creation. */
  activatesAt: ts("activates_at"),
  /** When a newer key takes (or took) over signing; the public key stays in the JWKS until `expiresAt`. */
  retiredAt: ts("retired_at"),
  expiresAt: ts("expires_at"),
});

export const twoFactorCredentials = pgTable("two_factor_credentials", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** AES-256-GCM sealed base32 secret, the user id as associated data. */
  secretSealed: text("secret_sealed").notNull(),
  /**
   * While pending: the backup codes shown by enable, sealed like the secret (they must be shown again by
   * verify-setup), hashed into `backup_codes` and dropped when the setup is confirmed.
   */
  pendingBackupCodesSealed: text("pending_backup_codes_sealed"),
  createdAt: ts("created_at").notNull(),
  /** Null while pending (enabled but not yet confirmed with a code). */
  confirmedAt: ts("confirmed_at"),
  /** The last TOTP time step accepted; a code for this step or an earlier one is a replay. */
  lastUsedStep: bigint("last_used_step", { mode: "number" }),
  failureCount: integer("failure_count").notNull().default(0),
  failureWindowStartedAt: ts("failure_window_started_at"),
  blockedUntil: ts("blocked_until"),
});

export const backupCodes = pgTable(
  "backup_codes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: ts("created_at").notNull(),
    usedAt: ts("used_at"),
  },
  (t) => [
    index("backup_codes_user_idx")
      .on(t.userId)
      .where(sql`${t.usedAt} is null`),
  ],
);

/** The pending second step of a 2FA login; the token is stored hashed and is no access token. */
export const twoFactorChallenges = pgTable(
  "two_factor_challenges",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    createdAt: ts("created_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    consumedAt: ts("consumed_at"),
    userAgent: text("user_agent"),
    ip: text("ip"),
    /** The trusted device the password step came from (a device cookie): the account lock does not apply. */
    deviceId: text("device_id"),
  },
  (t) => [uniqueIndex("two_factor_challenges_hash_idx").on(t.tokenHash)],
);

/**
 * What support staff did with the admin CLI (`npm run admin`), written in the transaction of the change it
 * records. No foreign key to `users`: the record outlives the account it is about.
 */
export const adminAuditLog = pgTable(
  "admin_audit_log",
  {
    id: uuid("id").primaryKey(),
    at: ts("at").notNull(),
    /** Who ran it (`--actor`), as they named themselves. */
    actor: text("actor").notNull(),
    /** The CLI command, e.g. `unlock`. */
    command: text("command").notNull(),
    /** The account acted on; null when the email matched none. */
    userId: uuid("user_id"),
    /** The canonical email the command named. */
    email: text("email").notNull(),
    outcome: text("outcome", { enum: ["done", "refused", "not_found"] }).notNull(),
    /** What changed (ids, counts); never a secret, token or hash. */
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("admin_audit_log_user_idx").on(t.userId, t.at)],
);
