import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { EmailVerificationService } from "../services/email-verification.service.ts";
import type { RegistrationService } from "../services/registration.service.ts";
import { localeFromAcceptLanguage } from "@mimascota/shared/i18n/locale";
import { messageFor } from "../i18n/messages.ts";
import { registerBody, registrationInput } from "./registration-body.ts";
import { problemResponses } from "@mimascota/shared/openapi/problem-responses";
import { emailSchema, messageResponse } from "./schemas.ts";

export interface RegistrationRouteDeps {
  registration: RegistrationService;
  verification: EmailVerificationService;
}

const tokenBody = z.object({ token: z.string().min(1).max(256) });
const emailBody = z.object({ email: emailSchema });

const tags = ["accounts"];

/** Registration and email verification: each handler parses, makes one service call, replies. */
export function registerRegistrationRoutes(app: FastifyInstance, deps: RegistrationRouteDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.post(
    "/api/v1/auth/register",
    {
      schema: {
        tags,
        summary: "Create an account (answers alike whether or not the email exists)",
        description:
          "Takes the flat body or, beside it, the original Mi Mascota API's nested `baseUser`/`client` body " +
          "(its profile fields go to the profile service with `user.registered.v1`). A field given in both " +
          "spellings with different values is a 400.",
        body: registerBody,
        response: { 202: messageResponse, ...problemResponses({ 400: ["WEAK_PASSWORD", "UNDERAGE"] }) },
      },
    },
    async (request, reply) => {
      const locale = localeFromAcceptLanguage(request.headers["accept-language"]);
      await deps.registration.register(registrationInput(request.body, locale));
      return reply.status(202).send({ message: messageFor(request, "registered") });
    },
  );

  typed.post(
    "/api/v1/auth/verify-email",
    {
      schema: {
        tags,
        summary: "Verify an email address with the token from the mailed link",
        body: tokenBody,
        response: { 200: messageResponse, ...problemResponses({ 400: ["INVALID_TOKEN"] }) },
      },
    },
    async (request) => {
      await deps.verification.verify(request.body.token);
      return { message: messageFor(request, "verified") };
    },
  );

  typed.post(
    "/api/v1/auth/resend-verification",
    {
      schema: {
        tags,
        summary: "Send a new verification link (always 202; 60 s cooldown per account)",
        body: emailBody,
        response: { 202: messageResponse, ...problemResponses({}) },
      },
    },
    async (request, reply) => {
      await deps.verification.resend(request.body.email);
      return reply.status(202).send({ message: messageFor(request, "resent") });
    },
  );
}
