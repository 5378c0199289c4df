import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "@mimascota/shared/clock";
import type { AuthSettings } from "../config.ts";
import type { TwoFactorLoginService } from "../services/two-factor-login.service.ts";
import type { TwoFactorService } from "../services/two-factor.service.ts";
import { normalizeBackupCode } from "../two-factor/backup-codes.ts";
import { requireAuth } from "./authenticate.ts";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { messageFor } from "../i18n/messages.ts";
import { agreeing } from "./aliases.ts";
import { passwordInputSchema, userResponse } from "./schemas.ts";
import { aliasesOf, clientOf, cookieAttributes, setDeviceCookie, tokenAliases } from "./session.routes.ts";

export interface TwoFactorRouteDeps {
  cookies: AuthSettings["cookies"];
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
const codeFields = { code: anyCode.optional(), token: anyCode.optional() };

/**
 * A 2FA management body: the code as `code` or, as the original front end sends it, `token` (both agree when
 * both are sent); `password` where the endpoint takes one (optional inside the recent-sign-in window).
 */
function managementBody<const S extends z.ZodRawShape>(extra: S, codeRule: z.ZodType<string> = anyCode) {
  return z
    .object({ ...extra, code: codeRule.optional(), token: codeRule.optional() })
    .transform((body, ctx) => {
      const code = agreeing<string>(body, ["code", "token"], ctx, { required: true });
      return { ...body, code: code ?? "" };
    });
}

const twoFactorTokenSchema = z.string().min(1).max(256);

/** The gateway also serves the management endpoints under the original Mi Mascota gateway's paths. */
const alsoAt = (name: string) =>
  ` Through the gateway also at \`/api/v1/2fa/${name}\`, the original API's path, which its front end calls.`;

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
        summary: "Start a 2FA setup: a new secret and its backup codes, pending until verify-setup",
        description:
          "`password` may be left out (or the body, as the original front end does) when the session signed " +
          "in within RECENT_AUTH_WINDOW; otherwise 401 REAUTHENTICATION_REQUIRED. `qr_code`, `backup_codes` " +
          "and `message` are the original API's names, kept for its front end." +
          alsoAt("enable"),
        body: z.object({ password: passwordInputSchema.optional() }).nullish(),
        response: {
          200: z.object({
            secret: z.string().describe("Base32, for manual entry"),
            otpauthUrl: z.string(),
            qrCode: z.string().describe("data:image/png;base64 URL of otpauthUrl as a QR code"),
            qr_code: z.string().describe("= qrCode (original API)"),
            backup_codes: backupCodesResponse.describe(
              "The codes that come with this setup; usable only once verify-setup confirms it",
            ),
            message: z.string(),
          }),
          ...problemResponses({
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD", "REAUTHENTICATION_REQUIRED"],
            409: ["TWO_FACTOR_ALREADY_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    async (request) => {
      const { backupCodes, ...setup } = await deps.twoFactor.enable(
        requireAuth(request),
        request.body?.password,
      );
      return {
        ...setup,
        qr_code: setup.qrCode,
        backup_codes: backupCodes,
        message: messageFor(request, "twoFactorSetup"),
      };
    },
  );

  typed.post(
    "/api/v1/auth/2fa/verify-setup",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Confirm the pending setup with a code: 2FA on, other sessions end, 10 backup codes",
        description:
          "The code as `code` or `token`; `secret`, if sent (the original front end does), must be the " +
          "pending one. The backup codes are those enable showed." +
          alsoAt("verify-setup"),
        body: managementBody({ secret: z.string().max(128).optional() }, totpCode),
        response: {
          200: z.object({
            enabled: z.literal(true),
            backupCodes: backupCodesResponse,
            two_factor_enabled: z.literal(true),
            backup_codes: backupCodesResponse,
            message: z.string(),
          }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE", "TWO_FACTOR_SECRET_MISMATCH"],
            401: ["UNAUTHORIZED"],
            409: ["TWO_FACTOR_NOT_PENDING"],
            ...TOO_MANY,
          }),
        },
      },
    },
    async (request) => {
      const { code, secret } = request.body;
      const result = await deps.twoFactor.verifySetup(requireAuth(request), code, secret);
      return {
        ...result,
        two_factor_enabled: result.enabled,
        backup_codes: result.backupCodes,
        message: messageFor(request, "twoFactorEnabled"),
      };
    },
  );

  typed.post(
    "/api/v1/auth/2fa/disable",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Turn 2FA off (a code or backup code, and the password); other sessions end",
        description:
          "The code as `code` or `token`. `password` may be left out when the session signed in within " +
          "RECENT_AUTH_WINDOW; otherwise 401 REAUTHENTICATION_REQUIRED." +
          alsoAt("disable"),
        body: managementBody({ password: passwordInputSchema.optional() }),
        response: {
          200: z.object({
            enabled: z.literal(false),
            two_factor_enabled: z.literal(false),
            message: z.string(),
          }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE"],
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD", "REAUTHENTICATION_REQUIRED"],
            409: ["TWO_FACTOR_NOT_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    async (request) => {
      const { password, code } = request.body;
      const result = await deps.twoFactor.disable(requireAuth(request), password, code);
      return {
        ...result,
        two_factor_enabled: result.enabled,
        message: messageFor(request, "twoFactorDisabled"),
      };
    },
  );

  typed.post(
    "/api/v1/auth/2fa/regenerate-backup-codes",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Replace the backup codes (needs a code); every earlier backup code stops working",
        description: `The code as \`code\` or \`token\`.${alsoAt("regenerate-backup-codes")}`,
        body: managementBody({}),
        response: {
          200: z.object({
            backupCodes: backupCodesResponse,
            backup_codes: backupCodesResponse,
            message: z.string(),
          }),
          ...problemResponses({
            400: ["INVALID_2FA_CODE"],
            401: ["UNAUTHORIZED"],
            409: ["TWO_FACTOR_NOT_ENABLED"],
            ...TOO_MANY,
          }),
        },
      },
    },
    async (request) => {
      const result = await deps.twoFactor.regenerateBackupCodes(requireAuth(request), request.body.code);
      return {
        ...result,
        backup_codes: result.backupCodes,
        message: messageFor(request, "backupCodesRegenerated"),
      };
    },
  );

  typed.get(
    "/api/v1/auth/2fa/status",
    {
      ...bearer,
      schema: {
        tags,
        security,
        summary: "Whether 2FA is on or pending, since when, and how many backup codes are left",
        description: `The snake_case fields are the original API's names.${alsoAt("status")}`,
        response: {
          200: z.object({
            enabled: z.boolean(),
            pending: z.boolean(),
            enabledAt: z.string().nullable(),
            backupCodesRemaining: z.number().int(),
            is_enabled: z.boolean().describe("= enabled (original API)"),
            two_factor_enabled: z.boolean().describe("= enabled (original API)"),
            backup_codes_count: z.number().int().describe("= backupCodesRemaining (original API)"),
            backup_codes_remaining: z.number().int().describe("= backupCodesRemaining (original API)"),
          }),
          ...problemResponses({ 401: ["UNAUTHORIZED"] }, { withBody: false }),
        },
      },
    },
    async (request) => {
      const status = await deps.twoFactor.status(requireAuth(request).userId);
      return {
        ...status,
        is_enabled: status.enabled,
        two_factor_enabled: status.enabled,
        backup_codes_count: status.backupCodesRemaining,
        backup_codes_remaining: status.backupCodesRemaining,
      };
    },
  );

  typed.post(
    "/api/v1/auth/login/2fa",
    {
      onRequest: noStore,
      schema: {
        tags,
        summary: "Second login step: the twoFactorToken from /login and a code or backup code",
        description:
          "The original front end sends the token as `temp_session_id` and `temp_token` and the code as " +
          "`token`, all beside the canonical names; every name given must carry the same value.",
        body: z
          .object({
            twoFactorToken: twoFactorTokenSchema.optional(),
            temp_session_id: twoFactorTokenSchema.optional(),
            temp_token: twoFactorTokenSchema.optional(),
            ...codeFields,
          })
          .transform((body, ctx) => ({
            twoFactorToken:
              agreeing<string>(body, ["twoFactorToken", "temp_session_id", "temp_token"], ctx, {
                required: true,
              }) ?? "",
            code: agreeing<string>(body, ["code", "token"], ctx, { required: true }) ?? "",
          })),
        response: {
          200: z.object({
            accessToken: z.string(),
            tokenType: z.literal("Bearer"),
            expiresIn: z.number().int().describe("Seconds until the access token expires"),
            user: userResponse,
            ...tokenAliases,
          }),
          ...problemResponses({ 401: ["INVALID_2FA_CODE", "INVALID_2FA_TOKEN"], ...TOO_MANY }),
        },
      },
    },
    async (request, reply) => {
      const { twoFactorToken, code } = request.body;
      const outcome = await deps.twoFactorLogin.complete(twoFactorToken, code, clientOf(request));
      const remaining = Math.floor((outcome.refreshExpiresAt.getTime() - deps.clock.now().getTime()) / 1000);
      reply.setCookie(deps.cookies.refreshName, outcome.refreshToken, {
        ...cookieAttributes(deps.cookies),
        maxAge: Math.max(0, remaining),
      });
      setDeviceCookie(reply, deps.cookies, outcome.device);
      const { accessToken, expiresIn, user } = outcome;
      return { accessToken, tokenType: "Bearer" as const, expiresIn, user, ...aliasesOf(accessToken) };
    },
  );
}
