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

/** The client left (or was cut off by the request timeout) before its body arrived in full. */
export class ClientGoneError extends Error {
  override name = "ClientGoneError";
}

/** The whole request body, read before the upstream is called; BodyTooLargeError past `limit`. */
export async function bufferedBody(source: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const buffer of limitedBody(source, limit)) chunks.push(buffer);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw error;
    throw new ClientGoneError("the client's request body did not arrive in full", { cause: error });
  }
  return Buffer.concat(chunks);
}

export function isBodyTooLarge(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof BodyTooLargeError) return true;
  }
  return false;
}
