import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientResponseHeaders, upstreamRequestHeaders } from "../../src/proxy/forward-headers.ts";

const ctx = {
  requestId: "req-1",
  userId: undefined as string | undefined,
  peerIp: "10.1.1.1",
  forwardedFor: undefined as string | undefined,
  proto: "https",
  host: "api.mimascota.app",
};

describe("forwarded headers", () => {
  it("strips every client X-User-* and sets X-User-Id only from the verified token", () => {
    const sent = upstreamRequestHeaders(
      { "x-user-id": "admin", "x-user-role": "admin", "x-username": "kept" },
      { ...ctx, userId: "u-1" },
    );
    assert.equal(sent["x-user-id"], "u-1");
    assert.equal(sent["x-user-role"], undefined);
    assert.equal(sent["x-username"], "kept", "only the x-user- prefix is reserved");
    assert.equal(upstreamRequestHeaders({ "x-user-id": "admin" }, ctx)["x-user-id"], undefined);
  });

  it("drops hop-by-hop headers, including those named in Connection, and client X-Forwarded-*", () => {
    const sent = upstreamRequestHeaders(
      {
        connection: "keep-alive, x-secret",
        "x-secret": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        "transfer-encoding": "chunked",
        upgrade: "websocket",
        host: "evil",
        "x-forwarded-for": "1.2.3.4",
        "x-forwarded-host": "evil",
        accept: "application/json",
      },
      ctx,
    );
    for (const name of [
      "connection",
      "x-secret",
      "keep-alive",
      "te",
      "transfer-encoding",
      "upgrade",
      "host",
    ]) {
      assert.equal(sent[name], undefined, name);
    }
    assert.equal(sent["x-forwarded-for"], "10.1.1.1");
    assert.equal(sent["x-forwarded-host"], "api.mimascota.app");
    assert.equal(sent.accept, "application/json");
    assert.equal(sent["x-request-id"], "req-1");
  });

  it("drops other client-address fields and reserved names spelt with underscores", () => {
    const sent = upstreamRequestHeaders(
      {
        x_user_id: "admin",
        "x-user_role": "admin",
        x_forwarded_for: "1.2.3.4",
        forwarded: "for=1.2.3.4",
        "x-real-ip": "1.2.3.4",
        "true-client-ip": "1.2.3.4",
        "x-client-ip": "1.2.3.4",
        "x-cluster-client-ip": "1.2.3.4",
        x_custom_header: "kept",
      },
      { ...ctx, userId: "u-1" },
    );
    assert.deepEqual(Object.keys(sent).sort(), [
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-proto",
      "x-request-id",
      "x-user-id",
      "x_custom_header",
    ]);
    assert.equal(sent["x-user-id"], "u-1");
    assert.equal(sent["x-forwarded-for"], "10.1.1.1");
  });

  it("keeps the trusted part of X-Forwarded-For and appends the peer", () => {
    const sent = upstreamRequestHeaders({}, { ...ctx, forwardedFor: "203.0.113.7" });
    assert.equal(sent["x-forwarded-for"], "203.0.113.7, 10.1.1.1");
  });

  it("removes banners, upstream CORS and connection headers from responses", () => {
    const out = clientResponseHeaders({
      server: "nginx",
      "x-powered-by": "Express",
      "access-control-allow-origin": "*",
      connection: "close",
      "content-type": "application/json",
      "cache-control": "private, max-age=300",
    });
    assert.deepEqual(out, { "content-type": "application/json", "cache-control": "private, max-age=300" });
  });
});
