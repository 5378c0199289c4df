import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { EmailVerificationService } from "../services/email-verification.service.ts";
import type { RegistrationService } from "../services/registration.service.ts";
import { localeFromAcceptLanguage } from "./accept-language.ts";
import { problemResponses } from "./problem-responses.ts";
import { emailSchema, localeSchema, messageResponse, passwordInputSchema } from "./schemas.ts";

export interface RegistrationRouteDeps {
  registration: RegistrationService;
  verification: EmailVerificationService;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Unknown fields (e.g. `emailVerified: true`) are stripped by zod and never reach a service. */
const registerBody = z.object({
  email: emailSchema,
  password: passwordInputSchema,
  fullName: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((v) => !CONTROL.test(v), "must not contain control characters")
    .nullish(),
  locale: localeSchema.optional(),
});
const tokenBody = z.object({ token: z.string().min(1).max(256) });
const emailBody = z.object({ email: emailSchema });

// One text per endpoint whatever the email: the body must not tell known and unknown addresses apart.
const MESSAGES = {
  registered: "If this address can be registered, an email with the next step is on its way.",
  verified: "Email address verified. You can now sign in.",
  resent: "If this address belongs to an unverified account, a new verification email is on its way.",
} as const;

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
        body: registerBody,
        response: { 202: messageResponse, ...problemResponses({ 400: ["WEAK_PASSWORD"] }) },
      },
    },
    async (request, reply) => {
      const { email, password, fullName, locale } = request.body;
      await deps.registration.register({
        email,
        password,
        fullName: fullName ?? null,
        locale: locale ?? localeFromAcceptLanguage(request.headers["accept-language"]),
      });
      return reply.status(202).send({ message: MESSAGES.registered });
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
      return { message: MESSAGES.verified };
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
      return reply.status(202).send({ message: MESSAGES.resent });
    },
  );
}
