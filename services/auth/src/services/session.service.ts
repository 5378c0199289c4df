import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import type { Clock } from "@mimascota/shared/clock";
import type { Database, Transaction } from "@mimascota/shared/db/database";
import { afterCommit, type UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthSettings } from "../config.ts";
import { hashToken, newOpaqueToken } from "../crypto/opaque-token.ts";
import { problems } from "../errors.ts";
import type { AuthMetrics } from "../metrics.ts";
import type { RefreshTokenRepository } from "../repositories/refresh-token.repository.ts";
import type { FirstRefreshToken, NewSession, SessionRepository } from "../repositories/session.repository.ts";
import type { AccessTokenService } from "./access-token.service.ts";
import { EVENT_SOURCE, type SessionRevoker } from "./account-ports.ts";
import { assertSameSite, type RequestSite } from "./same-site.ts";

export interface SessionDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  settings: Pick<AuthSettings, "refresh" | "accessTokens">;
  sessions: SessionRepository;
  refreshTokens: RefreshTokenRepository;
  accessTokens: AccessTokenService;
  kv: KeyValueStore;
  metrics: AuthMetrics;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

export interface Client {
  userAgent: string | null;
  ip: string | null;
}

/** A refresh token for the cookie and when it stops working. */
export interface RefreshGrant {
  refreshToken: string;
  refreshExpiresAt: Date;
}

export type SessionGrant = RefreshGrant & { sessionId: string };

export interface NewSessionInput {
  userId: string;
  amr: string[];
  client: Client;
}

/** A session's rows (`SessionService.prepare`) and what the client gets once they are stored. */
export interface PreparedSession {
  session: NewSession;
  token: FirstRefreshToken;
  grant: SessionGrant;
}

export interface TokenPair extends RefreshGrant {
  accessToken: string;
  expiresIn: number;
}

/** Sessions and their refresh-token families: start, rotate, detect reuse, revoke. */
export class SessionService implements SessionRevoker {
  readonly #deps: SessionDeps;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
  }

  /** Opens a session in the caller's transaction (the login that proves it). */
  async start(tx: Transaction, input: NewSessionInput): Promise<SessionGrant> {
    const { session, token, grant } = this.prepare(input);
    await this.#deps.sessions.insertWithToken(tx, session, token);
    return grant;
  }

  /**
   * A session's rows and the grant they stand for, not yet stored: for a statement that opens it only if its
   * own check passes (the clean password login's, `LoginRepository.openSessionAfterPasswordCheck`).
   */
  prepare(input: NewSessionInput): PreparedSession {
    const now = this.#deps.clock.now();
    const sessionId = randomUUID();
    const expiresAt = new Date(now.getTime() + this.#deps.settings.refresh.absoluteTtlMs);
    const refreshToken = newOpaqueToken();
    // Idle lifetime from issuance, never past the session's absolute end.
    const idleEnd = now.getTime() + this.#deps.settings.refresh.idleTtlMs;
    const refreshExpiresAt = new Date(Math.min(idleEnd, expiresAt.getTime()));
    return {
      session: {
        id: sessionId,
        userId: input.userId,
        amr: input.amr,
        userAgent: input.client.userAgent,
        ip: input.client.ip,
        createdAt: now,
        expiresAt,
      },
      token: { id: randomUUID(), tokenHash: hashToken(refreshToken), expiresAt: refreshExpiresAt },
      grant: { sessionId, refreshToken, refreshExpiresAt },
    };
  }

  /**
   * Rotates a refresh token. The cross-site check comes first, so a forged request cannot even spend (and
   * thereby invalidate) the victim's token.
   */
  async refresh(token: string | undefined, site: RequestSite): Promise<TokenPair> {
    try {
      assertSameSite(site, this.#deps.settings.refresh.allowedOrigins);
    } catch (error) {
      this.#deps.metrics.refreshes.inc("cross_site");
      throw error;
    }
    const now = this.#deps.clock.now();
    if (!token) throw this.#fail("invalid");
    // The successor is made before we know the token is good: a random token and a digest are cheaper than a
    // second round trip, and the statement throws it away unless it rotates.
    const refreshToken = newOpaqueToken();
    const rotation = await this.#deps.refreshTokens.rotate(hashToken(token), now, {
      id: randomUUID(),
      tokenHash: hashToken(refreshToken),
      idleExpiresAt: new Date(now.getTime() + this.#deps.settings.refresh.idleTtlMs),
    });
    if (!rotation) throw this.#fail("invalid");
    const { presented: found, successorExpiresAt } = rotation;
    if (found.sessionRevokedAt || found.sessionExpiresAt <= now) throw this.#fail("invalid");
    if (found.rotatedAt) {
      if (now.getTime() - found.rotatedAt.getTime() <= this.#deps.settings.refresh.reuseGraceMs) {
        throw this.#fail("stale");
      }
      await this.#revokeForReuse(found.sessionId, found.userId, now);
      throw this.#fail("reused");
    }
    if (found.expiresAt <= now) throw this.#fail("invalid");
    // Unrotated when presented, yet not rotated by us: a concurrent refresh with it won the race a moment ago.
    if (!successorExpiresAt) throw this.#fail("stale");
    const access = await this.#deps.accessTokens.issue({
      userId: found.userId,
      sessionId: found.sessionId,
      amr: found.amr,
      email: found.email,
      role: found.role,
    });
    this.#deps.metrics.refreshes.inc("success");
    return { ...access, refreshToken, refreshExpiresAt: successorExpiresAt };
  }

  /** Ends the cookie's session, whatever state its token is in; nothing to do without a known token. */
  async logout(token: string | undefined, site: RequestSite): Promise<void> {
    assertSameSite(site, this.#deps.settings.refresh.allowedOrigins);
    if (!token) return;
    const found = await this.#deps.refreshTokens.findWithSession(hashToken(token));
    if (!found || found.sessionRevokedAt) return;
    const revoked = await this.#deps.sessions.revoke(
      this.#deps.db,
      found.sessionId,
      "logout",
      this.#deps.clock.now(),
    );
    if (revoked) await this.publishRevoked([found.sessionId]);
  }

  /** Whether a session still counts: exists for this user, not revoked, not past its absolute end. */
  async isActive(sessionId: string, userId: string): Promise<boolean> {
    const status = await this.#deps.sessions.getStatus(sessionId);
    return (
      !!status &&
      status.userId === userId &&
      status.revokedAt === null &&
      status.expiresAt.getTime() > this.#deps.clock.now().getTime()
    );
  }

  /** When the session signed in (password, and 2FA where on); a refresh does not move it. */
  signedInAt(sessionId: string): Promise<Date | undefined> {
    return this.#deps.sessions.signedInAt(sessionId);
  }

  /** Revokes in `tx` (a unit of work's); the revocations are published to the gateway once it commits. */
  async revokeAllForUser(
    tx: Transaction,
    userId: string,
    options: { exceptSessionId?: string; reason: string },
  ): Promise<string[]> {
    const ids = await this.#deps.sessions.revokeAllForUser(tx, userId, {
      ...options,
      at: this.#deps.clock.now(),
    });
    if (ids.length > 0) afterCommit(tx, () => this.publishRevoked(ids));
    return ids;
  }

  /**
   * Revokes one of the user's sessions in `tx` (support's `revoke-session`); false when it is not theirs or
   * already revoked. Published to the gateway once `tx` commits.
   */
  async revokeSession(tx: Transaction, userId: string, sessionId: string, reason: string): Promise<boolean> {
    const now = this.#deps.clock.now();
    if (!(await this.#deps.sessions.revoke(tx, sessionId, reason, now, userId))) return false;
    afterCommit(tx, () => this.publishRevoked([sessionId]));
    return true;
  }

  /**
   * After commit: marks the sessions revoked in the key-value store for the access tokens' lifetime (plus a
   * minute of clock leeway), so the gateway refuses them at once. Never throws: the database already says
   * they are revoked, and the bearer guard here checks the database.
   */
  async publishRevoked(sessionIds: string[]): Promise<void> {
    const ttlMs = this.#deps.settings.accessTokens.ttlMs + 60_000;
    await Promise.all(
      sessionIds.map((id) =>
        this.#deps.kv.set(revokedSessionKey(id), "1", ttlMs).catch((error: unknown) => {
          this.#deps.logger.error({ err: error, sessionId: id }, "could not publish a session revocation");
        }),
      ),
    );
  }

  /** A rotated token came back after the grace window: assume theft and end the whole family. */
  async #revokeForReuse(sessionId: string, userId: string, now: Date): Promise<void> {
    const revoked = await this.#deps.work.run(async (tx) => {
      if (!(await this.#deps.sessions.revoke(tx, sessionId, "refresh_token_reused", now))) return false;
      afterCommit(tx, () => this.publishRevoked([sessionId]));
      await enqueueEvent(tx, EVENT_SOURCE, {
        topic: "auth.refresh_token_reused.v1",
        key: userId,
        data: { userId, sessionId, reason: "refresh_token_reused", detectedAt: now.toISOString() },
        occurredAt: now,
      });
      return true;
    });
    if (revoked) this.#deps.metrics.reuseDetections.inc();
  }

  #fail(kind: "invalid" | "stale" | "reused") {
    this.#deps.metrics.refreshes.inc(kind);
    if (kind === "stale") {
      return problems.error("REFRESH_TOKEN_STALE");
    }
    if (kind === "reused") {
      return problems.error("REFRESH_TOKEN_REUSED");
    }
    return problems.error("INVALID_REFRESH_TOKEN");
  }
}
