import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { PasswordService } from "../services/password.service.ts";
import { requireAuth } from "./authenticate.ts";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { messageFor } from "../i18n/messages.ts";
import { emailSchema, messageResponse, passwordInputSchema } from "./schemas.ts";

export interface PasswordRouteDeps {
  passwords: PasswordService;
  /** The bearer guard (sessions side): sets `request.auth` or answers 401. */
  authenticate: preHandlerAsyncHookHandler;
}

const emailBody = z.object({ email: emailSchema });
const resetBody = z.object({ token: z.string().min(1).max(256), newPassword: passwordInputSchema });
const changeBody = z.object({ currentPassword: passwordInputSchema, newPassword: passwordInputSchema });

const tags = ["accounts"];

/** Forgot, reset and change password: each handler parses, makes one service call, replies. */
export function registerPasswordRoutes(app: FastifyInstance, deps: PasswordRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    "/api/v1/auth/forgot-password",
    {
      schema: {
        tags,
        summary: "Mail a password reset link (always 202)",
        body: emailBody,
        response: { 202: messageResponse, ...problemResponses({}) },
      },
    },
    async (request, reply) => {
      await deps.passwords.forgot(request.body.email);
      return reply.status(202).send({ message: messageFor(request, "forgot") });
    },
  );

  typed.post(
    "/api/v1/auth/reset-password",
    {
      schema: {
        tags,
        summary: "Set a new password with the token from the mailed link; ends every session",
        body: resetBody,
        response: { 200: messageResponse, ...problemResponses({ 400: ["INVALID_TOKEN", "WEAK_PASSWORD"] }) },
      },
    },
    async (request) => {
      await deps.passwords.reset(request.body.token, request.body.newPassword);
      return { message: messageFor(request, "reset") };
    },
  );

  typed.post(
    "/api/v1/auth/change-password",
    {
      // Before the body is parsed or validated: an unauthenticated caller learns nothing about the body rules.
      onRequest: deps.authenticate,
      schema: {
        tags,
        summary: "Change the password; ends the user's other sessions",
        security: [{ bearer: [] }],
        body: changeBody,
        response: {
          200: messageResponse,
          ...problemResponses({
            400: ["WEAK_PASSWORD"],
            401: ["UNAUTHORIZED", "INVALID_CURRENT_PASSWORD"],
            429: ["TOO_MANY_ATTEMPTS"],
          }),
        },
      },
    },
    async (request) => {
      const { currentPassword, newPassword } = request.body;
      await deps.passwords.change(requireAuth(request), currentPassword, newPassword);
      return { message: messageFor(request, "changed") };
    },
  );
}
