import type { FastifyReply } from "fastify";
import { clientResponseHeaders } from "./forward-headers.ts";
import type { UpstreamResponse } from "./upstream-exchange.ts";

/**
 * Relays an upstream response: a small body (collected by `exchange`) is written with the headers in one
 * go, since piping costs several socket writes per response; a large one streams through unbuffered.
 */
export function sendUpstreamResponse(
  reply: FastifyReply,
  response: UpstreamResponse,
  extra?: Record<string, string | number>,
): FastifyReply {
  reply.code(response.statusCode).headers(clientResponseHeaders(response.headers));
  if (extra) reply.headers(extra);
  if (reply.request.method === "HEAD") {
    // No body, but the upstream's Content-Length describes the GET response and must survive.
    const length = response.headers["content-length"];
    if (typeof length === "string") reply.header("content-length", length);
    return reply.send();
  }
  return reply.send(response.body);
}
