import { z } from "zod";
import { ConfigError } from "@mimascota/shared/config";

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "lower-case letters, digits, - and _");

const upstreamSpec = z.object({
  url: z.url(),
  /** Probed by /ready. */
  healthPath: z.string().startsWith("/").default("/health"),
});

const policySpec = z.object({
  limit: z.number().int().min(1),
  /** Seconds. */
  window: z.number().int().min(1),
  /** Whom the limit counts: the client IP, or the user (the IP for anonymous requests). */
  per: z.enum(["ip", "user"]).default("ip"),
});

const routeSpec = z
  .object({
    /** Matched exactly (no prefix) against the request path as normalised by `normalizeTarget`. */
    path: z.string().startsWith("/").optional(),
    /** Matched as a prefix of the normalised path; the longest prefix wins, an exact `path` wins over any. */
    prefix: z.string().startsWith("/").optional(),
    upstream: name,
    /** Public routes skip token verification; everything else needs a valid access token. */
    public: z.boolean().default(false),
    /** Stricter policies on top of the per-IP or per-user limit, by name from `policies`. */
    rateLimits: z.array(name).default([]),
    /** GET/HEAD responses may be cached (still only when the upstream's Cache-Control allows it). */
    cache: z.boolean().default(false),
    /** Largest request body in bytes; unset means BODY_LIMIT_BYTES. */
    bodyLimit: z.number().int().min(0).optional(),
    /**
     * An alias route: the upstream reads the path with its leading `from` replaced by `to` (e.g. the original
     * API's `/api/v1/2fa/…` served by the auth service's `/api/v1/auth/2fa/…`).
     */
    rewrite: z.object({ from: z.string().startsWith("/"), to: z.string().startsWith("/") }).optional(),
    /** Roles of which the access token must carry at least one (`roles` claim); else 403 FORBIDDEN_ROLE. */
    roles: z.array(z.string().min(1).max(64)).optional(),
  })
  .refine((r) => (r.path === undefined) !== (r.prefix === undefined), "set exactly one of path and prefix")
  .refine(
    (r) => r.rewrite === undefined || (r.path ?? r.prefix ?? "").startsWith(r.rewrite.from),
    "rewrite.from must begin the route's path or prefix",
  )
  .refine((r) => !r.roles?.length || !r.public, "a public route cannot require roles");

export const routeTableSchema = z.object({
  upstreams: z.record(name, upstreamSpec),
  policies: z.record(name, policySpec).default({}),
  routes: z.array(routeSpec).min(1),
});

export type RouteTableSpec = z.output<typeof routeTableSchema>;
export type RateLimitPolicySpec = z.output<typeof policySpec>;

/** Validates a table and its cross references, naming the configuration source in any error. */
export function parseRouteTable(json: unknown, source: string): RouteTableSpec {
  const result = routeTableSchema.safeParse(json);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  if (result.success) {
    result.data.routes.forEach((route, i) => {
      if (!result.data.upstreams[route.upstream])
        problems.push(`routes.${i}.upstream: unknown "${route.upstream}"`);
      for (const policy of route.rateLimits) {
        if (!result.data.policies[policy])
          problems.push(`routes.${i}.rateLimits: unknown policy "${policy}"`);
      }
    });
    const seen = new Set<string>();
    for (const route of result.data.routes) {
      const key = route.path ?? `prefix:${route.prefix}`;
      if (seen.has(key)) problems.push(`routes: "${key}" is listed twice`);
      seen.add(key);
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${source}: ${p}`).join("\n")}`);
  }
  return result.data;
}
