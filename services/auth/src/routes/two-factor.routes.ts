import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "@mimascota/shared/clock";
import type { AuthConfig } from "../config.ts";
import type { TwoFactorLoginService } from "../services/two-factor-login.service.ts";
import type { TwoFactorService } from "../services/two-factor.service.ts";
import { normalizeBackupCode } from "../two-factor/backup-codes.ts";
import { requireAuth } from "./authenticate.ts";
import { problemResponses } from "./problem-responses.ts";
import { passwordInputSchema, userResponse } from "./schemas.ts";
import { clientOf, cookieAttributes } from "./session.routes.ts";

export interface TwoFactorRouteDeps {
  config: Pick<AuthConfig, "REFRESH_COOKIE_NAME" | "COOKIE_SECURE">;
  clock: Clock;
  twoFactor: TwoFactorService;
  twoFactorLogin: TwoFactorLoginService;
  /**
   * The bearer guard (sessions side): sets `request.auth` or answers 401. Run on request, before the body is
   * validated, so an anonymous caller learns nothing about the body's shape.
   */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * A code is a string (a number would lose leading zeros, so JSON numbers are refused): six digits, or where
 * backup codes count, one of those (`xxxxx-xxxxx`, case, spaces and dashes free). Anything else is a 400
 * before any check, so a malformed code costs no attempt.
 */
const totpCode = z.string().regex(/^[0-9]{6}$/, "must be the 6-digit code from the authenticator app");
const anyCode = z
  .string()
  .max(64)
  .refine(
    (v) => /^[0-9]{6}$/.test(v) || normalizeBackupCode(v) !== null,
    "must be the 6-digit code from the authenticator app or a backup code",
  );
const backupCodesResponse = z.array(z.string()).length(10).describe("Shown once; store them safely");

const tags = ["two-factor"];

/** Secrets, QR codes, backup codes and tokens must not be kept by any cache on the way, nor the status. */
async function noStore(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header("cache-control", "no-store");
}
const security = [{ bearer: [] }];
const TOO_MANY = { 429: ["TOO_MANY_ATTEMPTS"] } as const;

/** The 2FA management endpoints and the login's second step: each handler parses, calls once, replies. */
export function registerTwoFactorRoutes(app: FastifyInstance, deps: TwoFactorRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const bearer = { onRequest: [noStore, deps.authenticate] };

  typed.post(
    "/api/v1/auth/2fa/enable",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Start a 2FA setup (needs the password): a new secret, pending until verify-setup",
        body: z.object({ password: passwordInputSchema }),
        response: {
          200: z.object({
            secret: z.string().describe("Base32, for manual entry"),
            otpauthUrl: z.string(),
            qrCode: z.string().describe("data:image/png;base64 URL of otpauthUrl as a QR code"),
          }),
          ...problemResponses({
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD"],
            409: ["TWO_FACTOR_ALREADY_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    (request) => deps.twoFactor.enable(requireAuth(request), request.body.password),
  );

  typed.post(
    "/api/v1/auth/2fa/verify-setup",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Confirm the pending setup with a code: 2FA on, other sessions end, 10 backup codes",
        body: z.object({ code: totpCode }),
        response: {
          200: z.object({ enabled: z.literal(true), backupCodes: backupCodesResponse }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE"],
            401: ["UNAUTHORIZED"],
            409: ["TWO_FACTOR_NOT_PENDING"],
            ...TOO_MANY,
          }),
        },
      },
    },
    (request) => deps.twoFactor.verifySetup(requireAuth(request), request.body.code),
  );

  typed.post(
    "/api/v1/auth/2fa/disable",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Turn 2FA off (password and a code or backup code); other sessions end",
        body: z.object({ password: passwordInputSchema, code: anyCode }),
        response: {
          200: z.object({ enabled: z.literal(false) }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE"],
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD"],
            409: ["TWO_FACTOR_NOT_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    (request) => deps.twoFactor.disable(requireAuth(request), request.body.password, request.body.code),
  );

  typed.post(
    "/api/v1/auth/2fa/regenerate-backup-codes",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Replace the backup codes (needs a code); every earlier backup code stops working",
        body: z.object({ code: anyCode }),
        response: {
          200: z.object({ backupCodes: backupCodesResponse }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE"],
            401: ["UNAUTHORIZED"],
            409: ["TWO_FACTOR_NOT_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    (request) => deps.twoFactor.regenerateBackupCodes(requireAuth(request), request.body.code),
  );

  typed.get(
    "/api/v1/auth/2fa/status",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Whether 2FA is on or pending, since when, and how many backup codes are left",
        response: {
          200: z.object({
            enabled: z.boolean(),
            pending: z.boolean(),
            enabledAt: z.string().nullable(),
            backupCodesRemaining: z.number().int(),
          }),
          ...problemResponses({ 401: ["UNAUTHORIZED"] }, { withBody: false }),
        },
      },
    },
    (request) => deps.twoFactor.status(requireAuth(request).userId),
  );

  typed.post(
    "/api/v1/auth/login/2fa",
    {
      onRequest: noStore,
      schema: {
        tags,
        summary: "Second login step: the twoFactorToken from /login and a code or backup code",
        body: z.object({ twoFactorToken: z.string().min(1).max(256), code: anyCode }),
        response: {
          200: z.object({
            accessToken: z.string(),
            tokenType: z.literal("Bearer"),
            expiresIn: z.number().int().describe("Seconds until the access token expires"),
            user: userResponse,
          }),
          ...problemResponses({ 401: ["INVALID_2FA_CODE", "INVALID_2FA_TOKEN"], ...TOO_MANY }),
        },
      },
    },
    async (request, reply) => {
      const { twoFactorToken, code } = request.body;
      const outcome = await deps.twoFactorLogin.complete(twoFactorToken, code, clientOf(request));
      const remaining = Math.floor((outcome.refreshExpiresAt.getTime() - deps.clock.now().getTime()) / 1000);
      reply.setCookie(deps.config.REFRESH_COOKIE_NAME, outcome.refreshToken, {
        ...cookieAttributes(deps.config),
        maxAge: Math.max(0, remaining),
      });
      const { accessToken, expiresIn, user } = outcome;
      return { accessToken, tokenType: "Bearer" as const, expiresIn, user };
    },
  );
}
