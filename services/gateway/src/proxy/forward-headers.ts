import type { IncomingHttpHeaders } from "node:http";

/** RFC 9110 §7.6.1 connection-specific fields, plus `host` (the upstream's is set by the client). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  // Node answers `Expect: 100-continue` itself; undici refuses to send it on.
  "expect",
]);

/** Response fields the gateway sets itself or never lets through (framework banners, upstream CORS). */
const RESPONSE_DROP = new Set([
  ...HOP_BY_HOP,
  "server",
  "x-powered-by",
  "x-request-id",
  "x-content-type-options",
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-expose-headers",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-max-age",
]);

/**
 * Client-address fields other proxies and frameworks trust; only the gateway's own X-Forwarded-* go upstream,
 * so a client cannot pass itself off as another address through them.
 */
const CLIENT_ADDRESS = new Set([
  "forwarded",
  "x-real-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
]);

/**
 * Whether a client's header is one only the gateway may set. Underscores count as dashes: CGI-style servers
 * (WSGI, Rack, PHP) read `X_User_Id` as `X-User-Id`.
 */
function reserved(name: string): boolean {
  const canonical = name.includes("_") ? name.replaceAll("_", "-") : name;
  return (
    canonical.startsWith("x-user-") || canonical.startsWith("x-forwarded-") || CLIENT_ADDRESS.has(canonical)
  );
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface ForwardContext {
  requestId: string;
  userId: string | undefined;
  /** The socket peer, appended to X-Forwarded-For as every proxy does. */
  peerIp: string;
  /** The part of X-Forwarded-For vouched for by trusted proxies; the rest a client may have made up. */
  forwardedFor: string | undefined;
  proto: string;
  host: string | undefined;
}

/**
 * The headers sent upstream. Identity and client-address headers are the gateway's alone: any `X-User-*`,
 * `X-Forwarded-*` or other client-address field a client sent (in any spelling) is dropped before `X-User-Id`
 * is set from the verified token. A malformed `traceparent` is dropped rather than
 * passed on (W3C Trace Context says to restart the trace).
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  ctx: ForwardContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  const named = connectionNamed(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || reserved(name)) continue;
    if (named?.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === "cookie" ? "; " : ", ") : value;
  }
  const traceparent = out.traceparent;
  if (traceparent !== undefined && !TRACEPARENT.test(traceparent)) {
    delete out.traceparent;
    delete out.tracestate;
  }
  out["x-request-id"] = ctx.requestId;
  out["x-forwarded-for"] = ctx.forwardedFor ? `${ctx.forwardedFor}, ${ctx.peerIp}` : ctx.peerIp;
  out["x-forwarded-proto"] = ctx.proto;
  if (ctx.host) out["x-forwarded-host"] = ctx.host;
  if (ctx.userId !== undefined) out["x-user-id"] = ctx.userId;
  return out;
}

/** The upstream's response headers as they may reach the client (and the cache). */
export function clientResponseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionNamed(headers.connection);
  for (const name in headers) {
    if (RESPONSE_DROP.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function connectionNamed(value: string | string[] | undefined): Set<string> | undefined {
  // The common values name no other header; skip the split on every request.
  if (value === undefined || value === "keep-alive" || value === "close") return undefined;
  const list = (Array.isArray(value) ? value.join(",") : value).toLowerCase().split(",");
  const names = new Set<string>();
  for (const item of list) {
    const name = item.trim();
    if (name && name !== "close" && name !== "keep-alive") names.add(name);
  }
  return names.size > 0 ? names : undefined;
}
