import type { IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** Small bodies of known length arrive whole; anything else streams. */
  body: Buffer | Readable;
}

/** Bodies up to this size are collected and written with the headers in one go. */
export const SMALL_BODY = 64 * 1024;

/**
 * One request to an upstream through undici's dispatch API. `request()` wraps every response in a body
 * stream with its own promise machinery; collecting a small body straight from the dispatcher measured ~1.5×
 * the throughput of `request()` + `arrayBuffer()` on this stack. Large or unsized bodies still stream, with
 * backpressure (the socket pauses while the client is slow).
 */
export function exchange(pool: Dispatcher, options: Dispatcher.DispatchOptions): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    let chunks: Buffer[] | undefined;
    let stream: Readable | undefined;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(controller, status, responseHeaders) {
        statusCode = status;
        headers = responseHeaders;
        const length = responseHeaders["content-length"];
        if (options.method === "HEAD" || (typeof length === "string" && Number(length) <= SMALL_BODY)) {
          chunks = [];
          return;
        }
        let ended = false;
        stream = new Readable({
          read: () => controller.resume(),
          // The client went away mid-body: free the upstream connection instead of leaving it paused.
          destroy: (error, callback) => {
            if (!ended && !controller.aborted) controller.abort(error ?? new Error("response abandoned"));
            callback(error);
          },
        });
        stream.once("end", () => (ended = true));
        settled = true;
        resolve({ statusCode, headers, body: stream });
      },
      onResponseData(controller, chunk) {
        if (chunks) chunks.push(chunk);
        else if (stream && !stream.push(chunk)) controller.pause();
      },
      onResponseEnd() {
        if (stream) {
          stream.push(null);
          return;
        }
        settled = true;
        const body =
          !chunks || chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        resolve({ statusCode, headers, body });
      },
      onResponseError(_controller, error) {
        if (!settled) {
          settled = true;
          reject(error);
        } else stream?.destroy(error);
      },
    };
    pool.dispatch(options, handler);
  });
}

const EMPTY = Buffer.alloc(0);

/** The whole body, however it arrived (the cache stores it). */
export async function bodyBuffer(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
