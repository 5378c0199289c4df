import type { FastifyReply, FastifyRequest } from "fastify";
import { problems } from "../errors.ts";
import type { AccessTokenService } from "../services/access-token.service.ts";
import type { SessionService } from "../services/session.service.ts";

export interface RequestAuth {
  userId: string;
  sessionId: string;
  /** Authentication methods of the session, e.g. `["pwd"]` or `["pwd","otp"]`. */
  amr: string[];
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the `authenticate` preHandler on bearer routes. */
    auth?: RequestAuth;
  }
}

export interface AuthenticateDeps {
  accessTokens: AccessTokenService;
  sessions: SessionService;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * The bearer guard: a valid access token (signature by a published key, `typ: at+jwt`, iss, aud, exp) whose
 * session is still live in the database, so a logout or password change takes effect here at once, not when
 * the token expires.
 */
export function authenticate(deps: AuthenticateDeps) {
  return async function authenticateRequest(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const match = BEARER.exec(request.headers.authorization ?? "");
    const subject = match?.[1] ? await deps.accessTokens.verify(match[1]) : undefined;
    if (!subject || !(await deps.sessions.isActive(subject.sessionId, subject.userId))) {
      // RFC 6750 §3: say which scheme is expected, and whether the presented token was the problem.
      throw problems.error("UNAUTHORIZED", {
        headers: { "www-authenticate": match ? 'Bearer error="invalid_token"' : "Bearer" },
      });
    }
    request.auth = subject;
  };
}

/** The authenticated caller of a route guarded by `authenticate`. */
export function requireAuth(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw problems.error("UNAUTHORIZED");
  return request.auth;
}
