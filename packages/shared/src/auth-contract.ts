/**
 * What the auth service and the gateway must agree on, written once: the access tokens' type and default
 * issuer and audience, the key under which a revoked session is published, and the auth endpoints that are
 * public (with the stricter limit the gateway's built-in table puts on each).
 */
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const DEFAULT_JWT_ISSUER = "mimascota-auth";
export const DEFAULT_JWT_AUDIENCE = "mimascota-api";

/** The prefix of the key-value entry that tells the gateway to refuse a session's access tokens at once. */
export const REVOKED_SESSION_PREFIX = "revoked-session:";
export const revokedSessionKey = (sessionId: string) => `${REVOKED_SESSION_PREFIX}${sessionId}`;

/** The auth service's prefix; its public endpoints below are relative to it. */
export const AUTH_PREFIX = "/api/v1/auth";

/** Rate-limit policies of the built-in table, by name. */
export type AuthRoutePolicy = "login" | "register" | "password-reset" | "resend" | "two-factor";

/** Every endpoint anyone may call without a token, and its stricter limit, if any. */
export const PUBLIC_AUTH_ROUTES: readonly { path: string; policy?: AuthRoutePolicy }[] = [
  { path: "/register", policy: "register" },
  { path: "/verify-email" },
  { path: "/resend-verification", policy: "resend" },
  { path: "/login", policy: "login" },
  { path: "/login/2fa", policy: "two-factor" },
  { path: "/refresh" },
  { path: "/logout" },
  { path: "/forgot-password", policy: "password-reset" },
  { path: "/reset-password", policy: "password-reset" },
];
