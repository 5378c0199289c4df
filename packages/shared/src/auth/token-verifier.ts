import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTHeaderParameters,
  type FlattenedJWSInput,
  type JSONWebKeySet,
} from "jose";
import { z } from "zod";
import { ACCESS_TOKEN_TYPE, DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from "../auth-contract.ts";
import { env } from "../config.ts";
import type { Clock } from "../clock.ts";

export interface VerifiedToken {
  userId: string;
  sessionId: string;
  /** The `roles` claim (strings only); routes may require one of them. */
  roles: readonly string[];
  /** The `email` claim, when the token carries one (the profile service seeds a missing profile with it). */
  email?: string;
  /** When the token stops being accepted (exp plus leeway), or earlier when the cached verification lapses. */
  validUntilMs: number;
}

export type Verification =
  | { ok: true; token: VerifiedToken }
  | { ok: false; reason: "invalid" }
  /** The signing keys could not be fetched: not the client's fault, so not a 401. */
  | { ok: false; reason: "keys_unavailable" };

export interface TokenVerifierOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  /** Longest `exp − iat` accepted; a token issued "in the future" beyond the leeway is refused too. */
  maxLifetimeSeconds: number;
  jwksCacheMaxAgeSeconds: number;
  jwksRefetchCooldownSeconds: number;
  cacheSize: number;
  cacheTtlSeconds: number;
  clock: Clock;
  /** Overrides the remote key set (tests). */
  keys?: JWTVerifyGetKey;
}

/** A remote key set as jose builds it: a key lookup that also exposes the last key set it loaded. */
type KeySet = JWTVerifyGetKey & { jwks?: () => JSONWebKeySet | undefined };

const MAX_TOKEN_LENGTH = 4096;
const SEGMENTS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies access tokens against the auth service's JWKS (the gateway for every request, the profile service
 * again for its own, so a request that reaches it without the gateway still needs a valid token), the way RFC 9068 describes: `typ: at+jwt`, an `alg`
 * allow-list (so `none` and HS256-with-the-public-key are refused before any key is chosen), `kid` required,
 * `iss`, `aud`, `exp`/`nbf` with bounded leeway and the claims the gateway relies on.
 *
 * An EdDSA verification costs ~190 µs, so verified tokens are cached by their exact string (any change to a
 * byte is a different key) until they expire, or for at most `cacheTtlSeconds` so that a key withdrawn from
 * the JWKS stops being honoured soon. Failures are not cached: they are cheap to recompute and must not let a
 * flood of junk evict good entries.
 *
 * When a refetch of the JWKS fails (the auth service down or slow), the keys it last published keep being
 * used: every token they sign is still verified, rather than every uncached request answering 503 once the
 * key set's cache age has passed. Refetches are then tried again at most once per refetch cooldown, so an
 * outage does not put a failing fetch in front of every request. Only a `kid` the last key set does not have
 * is `keys_unavailable` meanwhile.
 */
export class TokenVerifier {
  readonly #options: TokenVerifierOptions;
  readonly #keys: JWTVerifyGetKey;
  readonly #cache = new Map<string, VerifiedToken>();
  /** When the last refetch failed, while the last published keys stand in; undefined when fetching works. */
  #failedAt: number | undefined;

  constructor(options: TokenVerifierOptions) {
    this.#options = options;
    const remote: KeySet =
      options.keys ??
      createRemoteJWKSet(new URL(options.jwksUrl), {
        cacheMaxAge: options.jwksCacheMaxAgeSeconds * 1000,
        cooldownDuration: options.jwksRefetchCooldownSeconds * 1000,
        timeoutDuration: 2_000,
      });
    this.#keys = async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
      if (typeof header.kid !== "string" || header.kid.length === 0 || header.kid.length > 128) {
        throw new errors.JWSInvalid("kid required");
      }
      const now = this.#options.clock.now().getTime();
      const last = remote.jwks?.();
      const backingOff =
        this.#failedAt !== undefined &&
        now - this.#failedAt < this.#options.jwksRefetchCooldownSeconds * 1000;
      let failure: unknown;
      if (!backingOff) {
        try {
          const key = await remote(header, token);
          this.#failedAt = undefined;
          return key;
        } catch (error) {
          if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
            throw error;
          }
          this.#failedAt = now;
          failure = error;
        }
      }
      if (!last) throw new KeysUnavailableError("signing keys unavailable", { cause: failure });
      try {
        return await createLocalJWKSet(last)(header, token);
      } catch (error) {
        // A kid the last published keys lack may be a newer key the unreachable JWKS would have had.
        if (error instanceof errors.JWKSNoMatchingKey) {
          throw new KeysUnavailableError("signing key unknown while the JWKS is unreachable", {
            cause: error,
          });
        }
        throw error;
      }
    };
  }

  async verify(token: string): Promise<Verification> {
    const now = this.#options.clock.now().getTime();
    const cached = this.#cache.get(token);
    if (cached) {
      if (cached.validUntilMs > now) return { ok: true, token: cached };
      this.#cache.delete(token);
    }
    if (token.length > MAX_TOKEN_LENGTH || !SEGMENTS.test(token)) return { ok: false, reason: "invalid" };
    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        algorithms: this.#options.algorithms,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: this.#options.clockToleranceSeconds,
        currentDate: new Date(now),
        requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
      });
      if (
        typeof payload.sub !== "string" ||
        typeof payload.sid !== "string" ||
        !payload.sub ||
        !payload.sid ||
        !this.#plausibleLifetime(payload.iat!, payload.exp!, now)
      ) {
        return { ok: false, reason: "invalid" };
      }
      const verified: VerifiedToken = {
        userId: payload.sub,
        sessionId: payload.sid,
        roles: rolesOf(payload.roles),
        ...(typeof payload.email === "string" && payload.email.length <= 320 ? { email: payload.email } : {}),
        validUntilMs: Math.min(
          (payload.exp! + this.#options.clockToleranceSeconds) * 1000,
          now + this.#options.cacheTtlSeconds * 1000,
        ),
      };
      this.#remember(token, verified);
      return { ok: true, token: verified };
    } catch (error) {
      if (error instanceof KeysUnavailableError) return { ok: false, reason: "keys_unavailable" };
      return { ok: false, reason: "invalid" };
    }
  }

  /**
   * jose checks `exp` and `nbf` but not that `iat` is in the past, nor how long a token lives: a correctly
   * signed token issued an hour ahead, or valid for ten years, would otherwise pass.
   */
  #plausibleLifetime(iat: number, exp: number, nowMs: number): boolean {
    const { clockToleranceSeconds, maxLifetimeSeconds } = this.#options;
    return iat <= nowMs / 1000 + clockToleranceSeconds && exp - iat <= maxLifetimeSeconds;
  }

  #remember(token: string, verified: VerifiedToken): void {
    if (this.#options.cacheSize === 0) return;
    if (this.#cache.size >= this.#options.cacheSize) {
      // Maps iterate in insertion order: dropping the first entry evicts the oldest verification.
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(token, verified);
  }
}

function rolesOf(claim: unknown): readonly string[] {
  if (!Array.isArray(claim)) return [];
  return claim.filter((role): role is string => typeof role === "string").slice(0, 16);
}

/** The JWKS could not be fetched or parsed (as opposed to a token that names no published key). */
class KeysUnavailableError extends Error {
  override name = "KeysUnavailableError";
}

/**
 * The settings of a service that verifies access tokens itself (the gateway, the profile service): issuer,
 * audience, algorithms, leeway, the longest lifetime, and the JWKS cache. Unset JWKS_URL means the auth
 * service's `/.well-known/jwks.json`.
 */
export const tokenVerificationConfigShape = {
  JWT_ISSUER: env.string(DEFAULT_JWT_ISSUER),
  JWT_AUDIENCE: env.string(DEFAULT_JWT_AUDIENCE),
  JWT_ALGORITHMS: env.list(["EdDSA", "ES256"]).pipe(z.array(z.enum(["EdDSA", "ES256"])).min(1)),
  /** Leeway for exp/nbf in seconds; the contract caps it at 60. */
  JWT_CLOCK_TOLERANCE: z.preprocess(
    (v) => (v === "" || v === undefined ? 30 : v),
    z.coerce.number().int().min(0).max(60),
  ),
  /**
   * Longest lifetime (`exp − iat`, seconds) a token may claim: the auth service's 15 minutes plus the leeway.
   * A correctly signed token claiming more (a key misused elsewhere, a forged issuer setting) is refused.
   */
  MAX_TOKEN_LIFETIME: env.int(15 * 60 + 60, 60),
  /** Unset means `<AUTH_SERVICE_URL>/.well-known/jwks.json`. */
  JWKS_URL: env.optionalUrl(),
  JWKS_CACHE_MAX_AGE: env.int(600, 1),
  /**
   * At most one JWKS refetch (triggered by an unknown kid) per this many seconds. Short, because the auth
   * service signs with a rotated key at once: a verifier that fetched within this window refuses the new kid
   * until it passes. One small fetch per 5 s is nothing to the auth service, even under a flood of junk kids.
   */
  JWKS_REFETCH_COOLDOWN: env.int(5, 1),
  TOKEN_CACHE_SIZE: env.int(10_000, 0),
  /** A verified token is re-verified (signature, key still published) after this many seconds. */
  TOKEN_CACHE_TTL: env.int(60, 1),
};

type TokenVerificationEnv = z.output<z.ZodObject<typeof tokenVerificationConfigShape>>;

/** Those settings as the verifier's options (mapped once); `AUTH_SERVICE_URL` locates the JWKS by default. */
export function tokenVerifierOptions(
  env: TokenVerificationEnv & { AUTH_SERVICE_URL: string },
): Omit<TokenVerifierOptions, "clock" | "keys"> {
  return {
    jwksUrl: env.JWKS_URL ?? new URL("/.well-known/jwks.json", env.AUTH_SERVICE_URL).toString(),
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    algorithms: env.JWT_ALGORITHMS,
    clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE,
    maxLifetimeSeconds: env.MAX_TOKEN_LIFETIME,
    jwksCacheMaxAgeSeconds: env.JWKS_CACHE_MAX_AGE,
    jwksRefetchCooldownSeconds: env.JWKS_REFETCH_COOLDOWN,
    cacheSize: env.TOKEN_CACHE_SIZE,
    cacheTtlSeconds: env.TOKEN_CACHE_TTL,
  };
}
