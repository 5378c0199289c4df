import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type UpstreamHandler = (request: SeenRequest, response: ServerResponse) => void | Promise<void>;

/**
 * A real HTTP upstream for the gateway tests: records every request it receives and answers with the
 * current handler (JSON echo by default).
 */
export class TestUpstream {
  readonly requests: SeenRequest[] = [];
  handler: UpstreamHandler = (request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ ok: true, url: request.url, method: request.method }));
  };
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  #url = "";

  get url(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests to paths other than the health probe's. */
  calls(path?: string): SeenRequest[] {
    return this.requests.filter((r) => r.url !== "/health" && (path === undefined || r.url === path));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the gateway gave up on this request (its client went away)
    }
    const seen: SeenRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    this.requests.push(seen);
    if (seen.url === "/health") {
      res.end("ok");
      return;
    }
    try {
      await this.handler(seen, res);
    } catch {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  }
}
