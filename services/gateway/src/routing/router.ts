import type { RouteTableSpec } from "./route-table.ts";

export interface RateLimitPolicy {
  name: string;
  limit: number;
  windowMs: number;
  per: "ip" | "user";
}

export interface GatewayRoute {
  /** The metrics `path` label: the configured path, or the prefix followed by `*`. Never the raw URL. */
  template: string;
  upstream: string;
  public: boolean;
  /** Route-specific policies, applied on top of the per-IP or per-user one. */
  policies: RateLimitPolicy[];
  cache: boolean;
  bodyLimit: number;
  /** Roles of which the token must carry one; empty: any signed-in user. */
  roles: readonly string[];
  /** The path the upstream reads for a request path of this route (the identity unless an alias route). */
  upstreamPath: (path: string) => string;
}

/**
 * Matches a normalised request path (`normalizeTarget`: escapes of unreserved characters decoded, dot
 * segments removed) against the table: exact paths first, then the longest prefix. No other leniency:
 * `/api/v1/auth/loginX` or `/api/v1/auth/login/` never match the public `/login` entry.
 */
export class Router {
  readonly #exact = new Map<string, GatewayRoute>();
  readonly #prefixes: { prefix: string; route: GatewayRoute }[] = [];

  constructor(spec: RouteTableSpec, defaults: { bodyLimit: number }) {
    for (const entry of spec.routes) {
      const route: GatewayRoute = {
        template: entry.path ?? `${entry.prefix}*`,
        upstream: entry.upstream,
        public: entry.public,
        policies: entry.rateLimits.map((name) => {
          const policy = spec.policies[name]!;
          return { name, limit: policy.limit, windowMs: policy.window * 1000, per: policy.per };
        }),
        cache: entry.cache,
        bodyLimit: entry.bodyLimit ?? defaults.bodyLimit,
        roles: entry.roles ?? [],
        upstreamPath: aliasPath(entry.rewrite),
      };
      if (entry.path !== undefined) this.#exact.set(entry.path, route);
      else this.#prefixes.push({ prefix: entry.prefix!, route });
    }
    this.#prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(path: string): GatewayRoute | undefined {
    const exact = this.#exact.get(path);
    if (exact) return exact;
    for (const { prefix, route } of this.#prefixes) if (path.startsWith(prefix)) return route;
    return undefined;
  }

  /** Every template, e.g. to pre-create metric series. */
  templates(): string[] {
    return [...this.#exact.keys(), ...this.#prefixes.map((p) => p.route.template)];
  }
}

const same = (path: string) => path;

/** For an alias route, a function that swaps the leading `from` for `to` (the query string untouched). */
function aliasPath(rewrite: { from: string; to: string } | undefined): (path: string) => string {
  if (rewrite === undefined) return same;
  const { from, to } = rewrite;
  return (path) => (path.startsWith(from) ? to + path.slice(from.length) : path);
}
