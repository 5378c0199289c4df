import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "@mimascota/shared/clock";
import type { AuthSettings } from "../config.ts";
import { problems } from "../errors.ts";
import type { AccountService } from "../services/account.service.ts";
import type { DeviceCookie, LoginService } from "../services/login.service.ts";
import type { Client, RefreshGrant, SessionService } from "../services/session.service.ts";
import type { RequestSite } from "../services/same-site.ts";
import { authenticate, requireAuth, type AuthenticateDeps } from "./authenticate.ts";
import { messageFor } from "../i18n/messages.ts";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { emailSchema, openapiSchemas, passwordInputSchema, userResponse } from "./schemas.ts";

export interface SessionRouteDeps extends AuthenticateDeps {
  cookies: AuthSettings["cookies"];
  clock: Clock;
  login: LoginService;
  sessions: SessionService;
  /** `/me` and its deletion. */
  accounts: AccountService;
}

/** Unknown fields are stripped by zod and never reach the service. */
const loginBody = z.object({ email: emailSchema, password: passwordInputSchema });
openapiSchemas.add(loginBody, {
  example: { email: "ana@example.com", password: "Tortuga-Violeta-Lluvia-2024!" },
});
/** The original Mi Mascota API's names for the token, which its front end reads (`access_token`). */
export const tokenAliases = {
  access_token: z.string().describe("= accessToken (original API)"),
  token_type: z.literal("Bearer").describe("= tokenType (original API)"),
};
export const aliasesOf = (accessToken: string) => ({
  access_token: accessToken,
  token_type: "Bearer" as const,
});

const tokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal("Bearer"),
  expiresIn: z.number().int().describe("Seconds until the access token expires"),
  ...tokenAliases,
});
const signedIn = tokenResponse.extend({ user: userResponse });
const secondFactorRequired = z.object({
  twoFactorRequired: z.literal(true),
  twoFactorToken: z.string(),
  expiresIn: z.number().int().describe("Seconds until the two-factor token expires"),
  requires_2fa: z.literal(true).describe("= twoFactorRequired (original API)"),
  temp_session_id: z.string().describe("= twoFactorToken (original API)"),
  message: z.string(),
});
const loginResponse = z.union([signedIn, secondFactorRequired]);
openapiSchemas.add(tokenResponse, { id: "AccessToken" });
openapiSchemas.add(signedIn, { id: "SignedIn" });
openapiSchemas.add(secondFactorRequired, { id: "SecondFactorRequired" });

/** The refresh cookie is scoped to the auth endpoints, so no other path (or script) ever sees it. */
const COOKIE_PATH = "/api/v1/auth";
const tags = ["sessions"];

/** Login, refresh, logout and me: each handler parses, makes one service call, replies. */
export function registerSessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const cookieName = deps.cookies.refreshName;

  const setRefreshCookie = (reply: FastifyReply, grant: RefreshGrant) => {
    const remaining = Math.floor((grant.refreshExpiresAt.getTime() - deps.clock.now().getTime()) / 1000);
    reply.setCookie(cookieName, grant.refreshToken, {
      ...cookieAttributes(deps.cookies),
      maxAge: Math.max(0, remaining),
    });
  };

  typed.post(
    "/api/v1/auth/login",
    {
      schema: {
        tags,
        summary: "Sign in with email and password (sets the refresh cookie, or asks for the second factor)",
        body: loginBody,
        response: {
          200: loginResponse,
          ...problemResponses({ 401: ["INVALID_CREDENTIALS"], 403: ["EMAIL_NOT_VERIFIED"] }),
        },
      },
    },
    async (request, reply) => {
      const outcome = await deps.login.login(
        request.body.email,
        request.body.password,
        clientOf(request),
        request.cookies[deps.cookies.deviceName],
      );
      reply.header("cache-control", "no-store");
      if (outcome.kind === "two-factor") {
        const { twoFactorToken, expiresIn } = outcome;
        return {
          twoFactorRequired: true as const,
          twoFactorToken,
          expiresIn,
          requires_2fa: true as const,
          temp_session_id: twoFactorToken,
          message: messageFor(request, "twoFactorRequired"),
        };
      }
      setRefreshCookie(reply, outcome);
      setDeviceCookie(reply, deps.cookies, outcome.device);
      const { accessToken, expiresIn, user } = outcome;
      return { accessToken, tokenType: "Bearer" as const, expiresIn, user, ...aliasesOf(accessToken) };
    },
  );

  typed.post(
    "/api/v1/auth/refresh",
    {
      schema: {
        tags,
        summary: "Rotate the refresh cookie and get a new access token",
        security: [{ refreshCookie: [] }],
        response: {
          200: tokenResponse,
          // No body is expected, but a POST may carry one: the edge's body codes stay documented.
          ...problemResponses({
            401: ["INVALID_REFRESH_TOKEN", "REFRESH_TOKEN_REUSED", "REFRESH_TOKEN_STALE"],
            403: ["CROSS_SITE_REQUEST"],
          }),
        },
      },
    },
    async (request, reply) => {
      const pair = await deps.sessions.refresh(request.cookies[cookieName], siteOf(request));
      reply.header("cache-control", "no-store");
      setRefreshCookie(reply, pair);
      const { accessToken, expiresIn } = pair;
      return { accessToken, tokenType: "Bearer" as const, expiresIn, ...aliasesOf(accessToken) };
    },
  );

  typed.post(
    "/api/v1/auth/logout",
    {
      schema: {
        tags,
        summary: "End the cookie's session and clear the cookie (idempotent)",
        security: [{ refreshCookie: [] }, {}],
        response: {
          204: z.null().describe("Signed out"),
          ...problemResponses({ 403: ["CROSS_SITE_REQUEST"] }),
        },
      },
    },
    async (request, reply) => {
      await deps.sessions.logout(request.cookies[cookieName], siteOf(request));
      // Same attributes as when it was set, or browsers treat it as another cookie and keep the real one.
      reply.setCookie(cookieName, "", { ...cookieAttributes(deps.cookies), maxAge: 0, expires: new Date(0) });
      return reply.status(204).send(null);
    },
  );

  typed.get(
    "/api/v1/auth/me",
    {
      preHandler: authenticate(deps),
      schema: {
        tags,
        summary: "The signed-in user",
        security: [{ bearer: [] }],
        response: { 200: userResponse, ...problemResponses({ 401: ["UNAUTHORIZED"] }, { withBody: false }) },
      },
    },
    async (request, reply) => {
      const user = await deps.accounts.profile(requireAuth(request).userId);
      if (!user) throw problems.error("UNAUTHORIZED");
      // The gateway caches this per user and purges it on that user's writes.
      reply.header("cache-control", "private, max-age=300");
      return user;
    },
  );

  typed.delete(
    "/api/v1/auth/me",
    {
      preHandler: authenticate(deps),
      schema: {
        tags,
        summary: "Delete the signed-in user's account and everything of it; every session ends",
        description:
          "`password` may be left out when the session signed in within RECENT_AUTH_WINDOW; otherwise 401 " +
          "REAUTHENTICATION_REQUIRED. A confirmation mail is sent and `user.deleted.v1` published; the same " +
          "email can register again.",
        security: [{ bearer: [] }],
        body: z.object({ password: passwordInputSchema.optional() }).nullish(),
        response: {
          204: z.null().describe("Deleted"),
          ...problemResponses({
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD", "REAUTHENTICATION_REQUIRED"],
            429: ["TOO_MANY_ATTEMPTS"],
          }),
        },
      },
    },
    async (request, reply) => {
      await deps.accounts.delete(requireAuth(request), request.body?.password);
      reply.clearCookie(deps.cookies.refreshName, cookieAttributes(deps.cookies));
      reply.clearCookie(deps.cookies.deviceName, cookieAttributes(deps.cookies));
      return reply.status(204).send(null);
    },
  );
}

/**
 * The device cookie (`DeviceTrustService`): a browser that signed in as the user, so the account lock does not
 * keep it out. Scoped like the refresh cookie; issued anew at every sign-in.
 */
export function setDeviceCookie(
  reply: FastifyReply,
  cookies: Pick<AuthSettings["cookies"], "deviceName" | "secure">,
  device: DeviceCookie,
): void {
  reply.setCookie(cookies.deviceName, device.value, {
    ...cookieAttributes(cookies),
    maxAge: device.maxAgeSeconds,
  });
}

export function cookieAttributes(cookies: Pick<AuthSettings["cookies"], "secure">) {
  return { httpOnly: true, sameSite: "strict", path: COOKIE_PATH, secure: cookies.secure } as const;
}

export function clientOf(request: FastifyRequest): Client {
  const agent = request.headers["user-agent"];
  return { userAgent: typeof agent === "string" ? agent.slice(0, 512) : null, ip: request.ip || null };
}

function siteOf(request: FastifyRequest): RequestSite {
  const { origin } = request.headers;
  const fetchSite = request.headers["sec-fetch-site"];
  return {
    origin: typeof origin === "string" ? origin : undefined,
    fetchSite: typeof fetchSite === "string" ? fetchSite : undefined,
  };
}
