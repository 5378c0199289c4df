import type { Readable } from "node:stream";

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * A chunked request body (no Content-Length to check up front) streamed to the upstream, cut off with
 * BodyTooLargeError as soon as it passes the route's limit. Declared lengths are checked before this runs,
 * and Node's parser never delivers more than a declared length.
 */
export async function* limitedBody(source: Readable, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    const buffer = chunk as Buffer;
    seen += buffer.length;
    if (seen > limit) throw new BodyTooLargeError("request body over the route's limit");
    yield buffer;
  }
}

export function isBodyTooLarge(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof BodyTooLargeError) return true;
  }
  return false;
}
