import { defineProblems } from "@mimascota/shared/errors";
import { authProblemsEn } from "./i18n/problems.en.ts";
import { authProblemsEs } from "./i18n/problems.es.ts";

/** Every code the auth service answers with; clients branch on `code`, never on `detail`. */
const authProblemSpecs = {
  WEAK_PASSWORD: { status: 400 },
  INVALID_TOKEN: { status: 400 },
  INVALID_CREDENTIALS: { status: 401 },
  EMAIL_NOT_VERIFIED: { status: 403 },
  INVALID_REFRESH_TOKEN: { status: 401 },
  REFRESH_TOKEN_REUSED: { status: 401 },
  REFRESH_TOKEN_STALE: { status: 401 },
  CROSS_SITE_REQUEST: { status: 403 },
  INVALID_CURRENT_PASSWORD: { status: 401 },
  /** A sensitive change without a password, outside the recent-sign-in window (RECENT_AUTH_WINDOW). */
  REAUTHENTICATION_REQUIRED: { status: 401 },
  INVALID_2FA_CODE: { status: 401 },
  INVALID_2FA_TOKEN: { status: 401 },
  TOO_MANY_ATTEMPTS: { status: 429 },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409 },
  TWO_FACTOR_NOT_PENDING: { status: 409 },
  TWO_FACTOR_NOT_ENABLED: { status: 409 },
  TWO_FACTOR_SECRET_MISMATCH: { status: 400 },
  UNDERAGE: { status: 400 },
} as const;

export type AuthProblemCode = keyof typeof authProblemSpecs;

export const problems = defineProblems(authProblemSpecs, { es: authProblemsEs, en: authProblemsEn });

export type ProblemCode = keyof typeof problems.specs;
