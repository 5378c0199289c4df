import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

/**
 * node:http, because fetch refuses to send hop-by-hop headers, always sends a length or chunks, and
 * normalises the path. `target`, when given, is sent exactly as written (escapes and dot segments kept).
 */
export function rawRequest(
  url: string,
  options: { method?: string; target?: string; headers?: Record<string, string>; body?: string[] },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port, pathname, search } = new URL(url);
  const path = options.target ?? `${pathname}${search}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    for (const chunk of options.body ?? []) req.write(chunk);
    req.end();
  });
}
