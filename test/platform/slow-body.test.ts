import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { startGateway, type RunningGateway } from "../../services/gateway/src/compose.ts";
import { loadGatewayConfig } from "../../services/gateway/src/config.ts";
import { createAuthTestContext, type AuthTestContext } from "../../services/auth/test/support/test-app.ts";
import { port } from "../../services/auth/test/support/listener.ts";

const TIMEOUT_MS = 2_000;

/**
 * A body dribbled one byte a second used to hold a connection for about a minute whatever REQUEST_TIMEOUT_MS
 * said (Node times out the head only). Both services now answer 408 and close the connection once the
 * whole request has not arrived within the setting.
 */
describe("a body sent one byte per second", { skip: await skipUnless("postgres") }, () => {
  let auth: AuthTestContext;
  let gateway: RunningGateway;

  before(async () => {
    auth = await createAuthTestContext({ env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await auth.app.listen({ port: 0, host: "127.0.0.1" });
    gateway = await startGateway(
      loadGatewayConfig({
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        PORT: "0",
        REDIS_URL: "",
        AUTH_SERVICE_URL: `http://127.0.0.1:${port(auth.app.server.address())}`,
        REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
      }),
      { logger: createLogger("slow-body", "silent"), processMetrics: false },
    );
  });
  after(async () => {
    await gateway?.close();
    await auth?.close();
  });

  /** A login whose head arrives at once and whose body comes one byte a second; what came back, and when. */
  function dribble(toPort: number): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve) => {
      const started = Date.now();
      let answer = "";
      const socket = connect(toPort, "127.0.0.1", () => {
        socket.write(
          "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{",
        );
      });
      const drip = setInterval(() => socket.writable && socket.write(" "), 1_000);
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(drip);
        resolve({ answer, closedAfterMs: Date.now() - started });
      });
    });
  }

  for (const service of ["auth", "gateway"] as const) {
    it(`${service}: 408 REQUEST_TIMEOUT and a closed connection within REQUEST_TIMEOUT_MS + 1 s`, async () => {
      const target = service === "auth" ? auth.app.server.address() : gateway.app.server.address();
      const { answer, closedAfterMs } = await dribble(port(target));
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
      assert.ok(closedAfterMs < TIMEOUT_MS + 1_000, `closed after ${closedAfterMs} ms`);
      assert.ok(closedAfterMs >= TIMEOUT_MS - 100, `not before the limit (${closedAfterMs} ms)`);
    });
  }
});
