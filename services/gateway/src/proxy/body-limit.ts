import type { Readable } from "node:stream";

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * The request body as streamed to the upstream, cut off with BodyTooLargeError as soon as it passes the
 * route's limit (a chunked body has no length to check up front). The client's stream is read through an
 * iterator that does not destroy it when undici gives up on the upload: the client's request must stay
 * intact, so that "the client went away" and "the upstream failed" can be told apart afterwards.
 */
export async function* limitedBody(source: Readable, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source.iterator({ destroyOnReturn: false })) {
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
