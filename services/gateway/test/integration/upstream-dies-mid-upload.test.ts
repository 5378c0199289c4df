import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startTestGateway, testRoutes, type TestGateway } from "../support/test-gateway.ts";

interface Breaker {
  state: string;
  consecutiveFailures: number;
  totalFailures: number;
}

/**
 * The upstream's connection dies while a request body is being forwarded (the process was killed, say). undici
 * then gives up on the upload; that must read as the upstream failing (502, a breaker failure), never as the
 * client leaving (which used to surface the raw socket error as a 500 and count as a breaker success).
 */
describe("an upstream dying while it reads a request body", { skip: await skipUnless("redis") }, () => {
  let upstream: Server;
  let gateway: TestGateway;
  const sockets = new Set<Socket>();

  before(async () => {
    // Reads the request head and part of the body, then drops the connection without answering; a health
    // probe (a GET) is dropped at once: the process is gone.
    upstream = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      let seen = 0;
      socket.on("data", (chunk: Buffer) => {
        if (seen === 0 && chunk.subarray(0, 4).toString("latin1") === "GET ") socket.resetAndDestroy();
        seen += chunk.length;
        if (seen >= 2048) socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const port = (upstream.address() as AddressInfo).port;
    gateway = await startTestGateway({
      routes: testRoutes(`http://127.0.0.1:${port}`),
      env: { RATE_LIMIT_IP: "100000", BREAKER_OPEN_DURATION: "60" },
    });
  });
  after(async () => {
    await gateway.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const breaker = async () =>
    ((await (await gateway.fetch("/circuit-breakers")).json()) as { app: Breaker }).app;

  /** A POST whose client stays connected; `whole` false leaves the upload unfinished until the answer. */
  const post = (whole: boolean) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const total = 64 * 1024;
      const first = whole ? total : 8 * 1024;
      const req = httpRequest(`${gateway.url}/api/public`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "content-length": String(total) },
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.write(Buffer.alloc(first, 0x61));
      if (whole) req.end();
    });

  it("answers 502 BAD_GATEWAY, not 500, and counts a breaker failure", async () => {
    for (const whole of [false, true]) {
      const before = (await breaker()).totalFailures;
      const response = await post(whole);
      assert.equal(response.status, 502, `whole body sent: ${whole}; ${response.body}`);
      assert.equal((JSON.parse(response.body) as { code: string }).code, "BAD_GATEWAY");
      assert.equal((await breaker()).totalFailures, before + 1, `whole body sent: ${whole}`);
    }
  });
});
