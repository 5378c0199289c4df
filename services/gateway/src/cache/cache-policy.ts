import type { IncomingHttpHeaders } from "node:http";

/** Cache-Control directives, lower-cased, with their argument when they have one (RFC 9111 §5.2). */
export function parseCacheControl(value: string | string[] | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  if (value === undefined) return directives;
  for (const part of (Array.isArray(value) ? value.join(",") : value).split(",")) {
    const [rawName = "", ...rest] = part.split("=");
    const name = rawName.trim().toLowerCase();
    if (name) directives.set(name, rest.join("=").trim().replace(/^"|"$/g, ""));
  }
  return directives;
}

/** A request that asks not to be served from a cache, or that a shared entry must not answer. */
export function mustBypass(headers: IncomingHttpHeaders, authenticated: boolean): boolean {
  const cc = headers["cache-control"];
  if (cc !== undefined) {
    const directives = parseCacheControl(cc);
    if (directives.has("no-cache") || directives.has("no-store")) return true;
  }
  if (headers.pragma === "no-cache") return true;
  // An anonymous entry is shared by everyone, so a request whose credentials might shape the response
  // (a cookie, or a token on a public route) is never answered from it nor stored in it.
  return !authenticated && (headers.authorization !== undefined || headers.cookie !== undefined);
}

/** Header names from Vary, lower-cased and sorted; null for `Vary: *` (never reusable). */
export function varyNames(value: string | string[] | undefined): string[] | null {
  if (value === undefined) return [];
  const names = (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes("*")) return null;
  return [...new Set(names)].sort();
}

/**
 * How long (seconds) a response may be stored; 0 means not at all. Only 200s with an explicit freshness
 * lifetime are stored, never `no-store`/`no-cache` ones or responses setting cookies. Authenticated entries
 * are keyed by user, so the gateway acts as that user's private cache and may keep `private` responses
 * (max-age applies); anonymous entries are shared, so `private` is refused and `s-maxage` wins.
 */
export function storableSeconds(
  status: number,
  headers: IncomingHttpHeaders,
  authenticated: boolean,
  maxTtlSeconds: number,
): number {
  if (status !== 200 || headers["set-cookie"] !== undefined) return 0;
  const cc = parseCacheControl(headers["cache-control"]);
  if (cc.has("no-store") || cc.has("no-cache")) return 0;
  if (cc.has("private") && !authenticated) return 0;
  const lifetime = !authenticated && cc.has("s-maxage") ? cc.get("s-maxage") : cc.get("max-age");
  const seconds = lifetime === undefined ? NaN : Number.parseInt(lifetime, 10);
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  const age = Number.parseInt(String(headers.age ?? "0"), 10) || 0;
  return Math.max(0, Math.min(seconds, maxTtlSeconds) - age);
}
