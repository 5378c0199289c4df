import { defineProblems } from "@mimascota/shared/errors";

/** Every code the auth service answers with; clients branch on `code`, never on `detail`. */
export const problems = defineProblems({
  WEAK_PASSWORD: { status: 400, title: "Password does not meet the policy" },
  INVALID_TOKEN: { status: 400, title: "Invalid or expired token" },
  INVALID_CREDENTIALS: { status: 401, title: "Invalid email or password" },
  EMAIL_NOT_VERIFIED: { status: 403, title: "Email address not verified" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "Invalid refresh token" },
  REFRESH_TOKEN_REUSED: { status: 401, title: "Refresh token reused" },
  REFRESH_TOKEN_STALE: { status: 401, title: "Refresh token already rotated" },
  CROSS_SITE_REQUEST: { status: 403, title: "Cross-site request refused" },
  INVALID_CURRENT_PASSWORD: { status: 401, title: "Current password is incorrect" },
  INVALID_2FA_CODE: { status: 401, title: "Invalid two-factor code" },
  INVALID_2FA_TOKEN: { status: 401, title: "Invalid or expired two-factor token" },
  TOO_MANY_ATTEMPTS: { status: 429, title: "Too many attempts" },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409, title: "Two-factor authentication already enabled" },
  TWO_FACTOR_NOT_PENDING: { status: 409, title: "No two-factor setup is pending" },
  TWO_FACTOR_NOT_ENABLED: { status: 409, title: "Two-factor authentication is not enabled" },
});

export type ProblemCode = keyof typeof problems.specs;
