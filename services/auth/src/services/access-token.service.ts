import { randomUUID, sign } from "node:crypto";
import { errors, jwtVerify } from "jose";
import { ACCESS_TOKEN_TYPE } from "@mimascota/shared/auth-contract";
import type { Clock } from "@mimascota/shared/clock";
import type { AuthSettings } from "../config.ts";
import type { Role } from "../domain/role.ts";
import { SIGNING_ALG, type SigningKeyService } from "./signing-key.service.ts";

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  amr: string[];
}

/**
 * What a new token says: the subject plus `email` and `roles`, which the original Mi Mascota front end reads
 * from the token (and the gateway's route table may require a role).
 */
export interface AccessTokenGrant extends AccessTokenSubject {
  email: string;
  role: Role;
}

export interface AccessTokenDeps {
  clock: Clock;
  settings: Pick<AuthSettings, "accessTokens">;
  keys: SigningKeyService;
}

/** Short-lived JWT access tokens (RFC 9068 profile: `typ: at+jwt`), signed with the active Ed25519 key. */
export class AccessTokenService {
  readonly #deps: AccessTokenDeps;

  constructor(deps: AccessTokenDeps) {
    this.#deps = deps;
  }

  /**
   * Signs with `node:crypto`'s one-shot Ed25519 `sign()`: synchronous, about half the CPU of jose's WebCrypto
   * path, and it does not queue behind argon2 jobs in the libuv thread pool as WebCrypto's signing does. The
   * JWS compact form (RFC 7515: base64url header, payload and signature joined by dots) is all there is to
   * write; verification stays with jose.
   */
  async issue(subject: AccessTokenGrant): Promise<{ accessToken: string; expiresIn: number }> {
    const settings = this.#deps.settings.accessTokens;
    const { kid, key } = await this.#deps.keys.signer();
    const iat = Math.floor(this.#deps.clock.now().getTime() / 1000);
    const header = { alg: SIGNING_ALG, typ: ACCESS_TOKEN_TYPE, kid };
    const claims = {
      sid: subject.sessionId,
      amr: subject.amr,
      email: subject.email,
      roles: [subject.role],
      iss: settings.issuer,
      aud: settings.audience,
      sub: subject.userId,
      jti: randomUUID(),
      iat,
      exp: iat + settings.ttlSeconds,
    };
    const signingInput = `${base64url(header)}.${base64url(claims)}`;
    const signature = sign(null, Buffer.from(signingInput), key).toString("base64url");
    return { accessToken: `${signingInput}.${signature}`, expiresIn: settings.ttlSeconds };
  }

  /**
   * The subject of a valid token, or undefined: wrong signature, unknown or unpublished kid, another `typ`,
   * issuer or audience, expired, or missing claims. Revocation is the caller's check (it needs the database).
   */
  async verify(token: string): Promise<AccessTokenSubject | undefined> {
    const settings = this.#deps.settings.accessTokens;
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.#deps.keys.verificationKey(header.kid);
          if (!key) throw new errors.JWKSNoMatchingKey();
          return key;
        },
        {
          algorithms: [SIGNING_ALG],
          typ: ACCESS_TOKEN_TYPE,
          issuer: settings.issuer,
          audience: settings.audience,
          currentDate: this.#deps.clock.now(),
          requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
        },
      );
      const { sub, sid, amr } = payload as { sub?: unknown; sid?: unknown; amr?: unknown };
      if (typeof sub !== "string" || typeof sid !== "string") return undefined;
      const methods = Array.isArray(amr) ? amr.filter((m): m is string => typeof m === "string") : [];
      return { userId: sub, sessionId: sid, amr: methods };
    } catch (error) {
      // Only a bad token is "no subject"; anything else (the database failing) must surface as such.
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
