import { connect } from "node:net";

/** A request as bytes on the wire: nothing is validated, so methods, targets and header values can be anything. */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (path and query, or anything else). */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Send the body chunked instead of with a Content-Length. */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The bytes as received, for error messages. */
  raw: string;
}

const DEADLINE_MS = 10_000;

/**
 * Sends one request on a fresh connection (`Connection: close`) and reads the first response. fetch and
 * node:http refuse to send control characters, CRLF or odd methods, which is exactly what the fuzz needs.
 */
export function sendRaw(port: number, request: RawRequest): Promise<RawResponse> {
  const head = [`${request.method} ${request.target} HTTP/1.1`, `host: 127.0.0.1:${port}`];
  for (const [name, value] of request.headers) head.push(`${name}: ${value}`);
  head.push("connection: close");
  const body = request.body;
  if (body && request.chunked) head.push("transfer-encoding: chunked");
  else if (body) head.push(`content-length: ${body.length}`);
  const framed =
    body && request.chunked
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")])
      : (body ?? Buffer.alloc(0));
  const bytes = Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), framed]);
  return sendBytes(port, bytes, { head: request.method === "HEAD" });
}

/**
 * Writes bytes as they are on a fresh connection and reads the first response until the server closes.
 * `end` half-closes after writing (Node then drops a request still in flight: use it only for messages
 * that can never complete).
 */
export function sendBytes(port: number, bytes: Buffer, options: { head?: boolean; end?: boolean } = {}) {
  return new Promise<RawResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port });
    const what = JSON.stringify(bytes.subarray(0, 120).toString("latin1"));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${DEADLINE_MS} ms to ${what}`));
    }, DEADLINE_MS);
    const finish = () => {
      clearTimeout(timer);
      const received = Buffer.concat(chunks);
      const parsed = parseResponse(received, options.head ?? false);
      if (parsed) resolve(parsed);
      else {
        const answer = JSON.stringify(received.toString("latin1").slice(0, 500));
        reject(new Error(`no parseable answer (${answer}) to ${what}`));
      }
    };
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // The server may reset the connection right after answering a malformed request: keep what arrived.
    socket.on("error", () => undefined);
    socket.on("close", finish);
    if (options.end) socket.end(bytes);
    else socket.write(bytes);
  });
}

function parseResponse(bytes: Buffer, head: boolean): RawResponse | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const lines = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!status?.[1]) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = bytes.subarray(end + 4);
  // A HEAD answer has no body, but one the HTTP parser refused does (the server could not know the method).
  if (head && !/^HTTP\/1\.1 (?:400|408|431) /.test(lines[0] ?? "")) body = Buffer.alloc(0);
  else if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(body);
  else if (headers["content-length"] !== undefined)
    body = body.subarray(0, Number(headers["content-length"]));
  return {
    status: Number(status[1]),
    headers,
    body: body.toString("utf8"),
    raw: bytes.toString("latin1").slice(0, 2000),
  };
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd === -1) break;
    const size = parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
