import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Database, type Executor } from "@mimascota/shared/db/database";
import { preparedStatement } from "@mimascota/shared/db/prepared-statement";
import type { Role } from "../domain/role.ts";

/** A presented token with the state of its session: everything a refresh or logout decides on. */
export interface PresentedToken {
  id: string;
  sessionId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  userId: string;
  /** The user's email and role, for the access token's claims. */
  email: string;
  role: Role;
  amr: string[];
  sessionExpiresAt: Date;
  sessionRevokedAt: Date | null;
}

/** What a rotation attempt saw, and the successor's end if this call rotated the token. */
export interface Rotation {
  presented: PresentedToken;
  /** Set only when this call rotated the token: the successor's idle end, capped by the session's end. */
  successorExpiresAt: Date | undefined;
}

export interface Successor {
  id: string;
  tokenHash: string;
  /** Issuance plus the idle lifetime; the statement caps it at the session's absolute end. */
  idleExpiresAt: Date;
}

const presentedColumns = sql`rt.id, rt.session_id, rt.expires_at, rt.rotated_at,
  s.user_id, u.email, u.role, s.amr, s.expires_at as session_expires_at, s.revoked_at as session_revoked_at`;

const presentedFrom = (tokenHash: string) =>
  sql`refresh_tokens rt join sessions s on s.id = rt.session_id join users u on u.id = s.user_id
  where rt.token_hash = ${tokenHash}`;

/**
 * The whole rotation as one statement (one round trip, one implicit transaction): read the presented token
 * and its session and, only if the token may be rotated (not rotated yet, unexpired, its session live),
 * mark it rotated, touch the session and insert its successor. Every part sees the state from before the
 * statement, so `found` is what was presented. Of concurrent rotations of one token exactly one rotates it:
 * the update waits on the row lock and PostgreSQL re-checks `rotated_at is null` against the winner's commit.
 * Exported so the benchmark explains the statement exactly as it is issued.
 */
export function rotationStatement(tokenHash: string, now: Date, successor: Successor): SQL {
  return sql`with found as (
  select ${presentedColumns} from ${presentedFrom(tokenHash)}
), rotated as (
  update refresh_tokens set rotated_at = ${now}::timestamptz
  where rotated_at is null and id = (
    select id from found
    where rotated_at is null and expires_at > ${now}::timestamptz
      and session_revoked_at is null and session_expires_at > ${now}::timestamptz)
  returning id, session_id
), touched as (
  update sessions set last_used_at = ${now}::timestamptz where id = (select session_id from rotated)
), successor as (
  insert into refresh_tokens (id, session_id, parent_id, token_hash, created_at, expires_at)
  select ${successor.id}::uuid, r.session_id, r.id, ${successor.tokenHash}, ${now}::timestamptz,
    least(${successor.idleExpiresAt}::timestamptz, f.session_expires_at)
  from rotated r cross join found f
  returning expires_at
)
select found.*, (select expires_at from successor) as successor_expires_at from found`;
}

type Row = Record<string, unknown>;

type RotationParams = { presentedHash: string; now: Date; successorId: string } & Omit<Successor, "id">;

const rotation = preparedStatement<RotationParams, Row>("refresh_tokens_rotate", (p) =>
  rotationStatement(p.presentedHash, p.now, {
    id: p.successorId,
    tokenHash: p.tokenHash,
    idleExpiresAt: p.idleExpiresAt,
  }),
);

const date = (value: unknown) => new Date(value as string | Date);
const dateOrNull = (value: unknown) => (value === null || value === undefined ? null : date(value));

function toPresented(row: Row): PresentedToken {
  return {
    id: row.id as string,
    sessionId: row.session_id as string,
    expiresAt: date(row.expires_at),
    rotatedAt: dateOrNull(row.rotated_at),
    userId: row.user_id as string,
    email: row.email as string,
    role: row.role as Role,
    amr: row.amr as string[],
    sessionExpiresAt: date(row.session_expires_at),
    sessionRevokedAt: dateOrNull(row.session_revoked_at),
  };
}

/** Refresh tokens, stored only as SHA-256 digests. */
export class RefreshTokenRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  async findWithSession(tokenHash: string, tx: Executor = this.#db): Promise<PresentedToken | undefined> {
    const [row] = await queryRows<Row>(tx, sql`select ${presentedColumns} from ${presentedFrom(tokenHash)}`);
    return row && toPresented(row);
  }

  /** See {@link rotationStatement}; undefined when no token has this digest. */
  async rotate(tokenHash: string, now: Date, successor: Successor): Promise<Rotation | undefined> {
    const [row] = await rotation(this.#db, {
      presentedHash: tokenHash,
      now,
      successorId: successor.id,
      tokenHash: successor.tokenHash,
      idleExpiresAt: successor.idleExpiresAt,
    });
    if (!row) return undefined;
    return {
      presented: toPresented(row),
      successorExpiresAt: dateOrNull(row.successor_expires_at) ?? undefined,
    };
  }
}
