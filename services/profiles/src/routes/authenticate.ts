import type { FastifyReply, FastifyRequest } from "fastify";
import type { TokenVerifier } from "@mimascota/shared/auth/token-verifier";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { commonError } from "@mimascota/shared/errors";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { Caller } from "../services/profile.service.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the `authenticate` preHandler. */
    caller?: Caller;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * The caller is who a valid access token says, verified here again (signature by a published key, type,
 * issuer, audience, lifetime) even though the gateway already did: a request that reaches this port some
 * other way gets nothing without a token. `X-User-Id` (the gateway's forwarded subject) is never trusted on
 * its own; when present it must name the token's subject. A session revoked at logout or account deletion is
 * refused as the gateway refuses it.
 */
export function authenticate(deps: { verifier: TokenVerifier; kv: KeyValueStore }) {
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const match = BEARER.exec(request.headers.authorization ?? "");
    const unauthorized = () =>
      commonError("UNAUTHORIZED", {
        headers: { "www-authenticate": match ? 'Bearer error="invalid_token"' : "Bearer" },
      });
    if (!match?.[1]) throw unauthorized();
    const verification = await deps.verifier.verify(match[1]);
    if (!verification.ok) {
      if (verification.reason === "keys_unavailable") {
        throw commonError("SERVICE_UNAVAILABLE", {
          variant: "keys_unavailable",
          headers: { "retry-after": "5" },
        });
      }
      throw unauthorized();
    }
    const { token } = verification;
    const asserted = request.headers["x-user-id"];
    if (asserted !== undefined && asserted !== token.userId) throw unauthorized();
    if (await isRevoked(deps.kv, token.sessionId, request)) throw unauthorized();
    request.caller = {
      userId: token.userId,
      sessionId: token.sessionId,
      email: token.email,
      roles: token.roles,
    };
  };
}

/** Best effort, like the gateway: the key-value store down does not turn every request into an error. */
async function isRevoked(kv: KeyValueStore, sessionId: string, request: FastifyRequest): Promise<boolean> {
  try {
    return (await kv.get(revokedSessionKey(sessionId))) !== null;
  } catch (error) {
    request.log.warn({ err: error }, "revocation check skipped: key-value store unavailable");
    return false;
  }
}

/** The caller of a route guarded by `authenticate`. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw commonError("UNAUTHORIZED");
  return request.caller;
}
