import type { FastifyReply } from "fastify";
import type { Dispatcher } from "undici";
import { clientResponseHeaders } from "./forward-headers.ts";

/** Bodies up to this size are read whole and written with the headers in one go. */
const SMALL_BODY = 64 * 1024;

/**
 * Relays an upstream response. Small bodies of known length are collected first: piping costs several
 * socket writes per response, and on a busy 2-core machine that alone cut throughput by a third. Anything
 * larger, or of unknown length, streams through without buffering.
 */
export async function sendUpstreamResponse(
  reply: FastifyReply,
  response: Dispatcher.ResponseData,
  extra?: Record<string, string | number>,
): Promise<FastifyReply> {
  reply.code(response.statusCode).headers(clientResponseHeaders(response.headers));
  if (extra) reply.headers(extra);
  const length = response.headers["content-length"];
  if (reply.request.method === "HEAD") {
    // No body, but the upstream's Content-Length describes the GET response and must survive.
    await response.body.dump();
    if (typeof length === "string") reply.header("content-length", length);
    return reply.send();
  }
  if (typeof length === "string" && Number(length) <= SMALL_BODY) {
    return reply.send(Buffer.from(await response.body.arrayBuffer()));
  }
  return reply.send(response.body);
}
