import { AUTH_PREFIX, PUBLIC_AUTH_ROUTES } from "@mimascota/shared/auth-contract";
import type { RouteTableSpec } from "./route-table.ts";

interface DefaultRouteSettings {
  AUTH_SERVICE_URL: string;
  RATE_LIMIT_WINDOW: number;
  RATE_LIMIT_LOGIN: number;
  RATE_LIMIT_REGISTER: number;
  RATE_LIMIT_PASSWORD_RESET: number;
  RATE_LIMIT_RESEND: number;
  RATE_LIMIT_TWO_FACTOR: number;
  AUTH_BODY_LIMIT_BYTES: number;
  PROFILES_SERVICE_URL: string;
  PROFILES_BODY_LIMIT_BYTES: number;
  PROFILES_UPLOAD_LIMIT_BYTES: number;
}

const PROFILES = "/api/v1/profiles";

const AUTH = AUTH_PREFIX;
/** The original Mi Mascota gateway served 2FA management here; its front end still calls these paths. */
const ORIGINAL_TWO_FACTOR = "/api/v1/2fa/";

/**
 * The built-in table: the auth service's public endpoints listed exactly, everything else under its prefix
 * behind a token, and the profile service's routes. Credential-guessing endpoints get their own, stricter
 * limits.
 */
export function defaultRouteTable(s: DefaultRouteSettings): RouteTableSpec {
  const window = s.RATE_LIMIT_WINDOW;
  const bodyLimit = s.AUTH_BODY_LIMIT_BYTES;
  const open = (path: string, rateLimits: string[] = []) => ({
    path: `${AUTH}${path}`,
    upstream: "auth",
    public: true,
    rateLimits,
    cache: false,
    bodyLimit,
  });
  const guarded = (path: string, rateLimits: string[] = [], cache = false) => ({
    path: `${AUTH}${path}`,
    upstream: "auth",
    public: false,
    rateLimits,
    cache,
    bodyLimit,
  });
  const originalTwoFactor = {
    upstream: "auth",
    public: false,
    rateLimits: [],
    cache: false,
    bodyLimit,
    rewrite: { from: ORIGINAL_TWO_FACTOR, to: `${AUTH}/2fa/` },
  };
  return {
    upstreams: {
      auth: { url: s.AUTH_SERVICE_URL, healthPath: "/health" },
      profiles: { url: s.PROFILES_SERVICE_URL, healthPath: "/health" },
    },
    policies: {
      login: { limit: s.RATE_LIMIT_LOGIN, window, per: "ip" },
      register: { limit: s.RATE_LIMIT_REGISTER, window, per: "ip" },
      "password-reset": { limit: s.RATE_LIMIT_PASSWORD_RESET, window, per: "ip" },
      resend: { limit: s.RATE_LIMIT_RESEND, window, per: "ip" },
      "two-factor": { limit: s.RATE_LIMIT_TWO_FACTOR, window, per: "user" },
    },
    routes: [
      ...PUBLIC_AUTH_ROUTES.map((route) => open(route.path, route.policy ? [route.policy] : [])),
      guarded("/me", [], true),
      guarded("/2fa/enable", ["two-factor"]),
      guarded("/2fa/verify-setup", ["two-factor"]),
      guarded("/2fa/disable", ["two-factor"]),
      guarded("/2fa/regenerate-backup-codes", ["two-factor"]),
      // The same endpoints under the original gateway's paths, with the same limits.
      ...["enable", "verify-setup", "disable", "regenerate-backup-codes"].map((name) => ({
        ...originalTwoFactor,
        path: `${ORIGINAL_TWO_FACTOR}${name}`,
        rateLimits: ["two-factor"],
      })),
      { ...originalTwoFactor, prefix: ORIGINAL_TWO_FACTOR },
      // The auth service's own password pages, which the mails link to by default (GET the form, POST it).
      ...["/account/reset-password", "/account/forgot-password"].map((path) => ({
        path,
        upstream: "auth",
        public: true,
        rateLimits: ["password-reset"],
        cache: false,
        bodyLimit,
      })),
      { prefix: `${AUTH}/`, upstream: "auth", public: false, rateLimits: [], cache: false, bodyLimit },
      // The profile service: the caller's own profile behind a token; photos public (an <img> sends no token,
      // the URL is random) and cacheable (immutable: a new photo gets a new URL).
      {
        path: PROFILES,
        upstream: "profiles",
        public: false,
        rateLimits: [],
        cache: false,
        bodyLimit: s.PROFILES_BODY_LIMIT_BYTES,
      },
      {
        prefix: `${PROFILES}/`,
        upstream: "profiles",
        public: false,
        rateLimits: [],
        cache: false,
        bodyLimit: s.PROFILES_UPLOAD_LIMIT_BYTES,
      },
      {
        prefix: `${PROFILES}/photos/`,
        upstream: "profiles",
        public: true,
        rateLimits: [],
        cache: true,
        bodyLimit: 0,
      },
      {
        path: "/.well-known/jwks.json",
        upstream: "auth",
        public: true,
        rateLimits: [],
        cache: true,
        bodyLimit,
      },
    ],
  };
}
