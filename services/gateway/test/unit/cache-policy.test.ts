import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mustBypass, storableSeconds, varyNames } from "../../src/cache/cache-policy.ts";

describe("cache policy", () => {
  const ttl = (
    cacheControl: string | undefined,
    authenticated: boolean,
    extra: Record<string, string> = {},
  ) =>
    storableSeconds(
      200,
      { ...(cacheControl ? { "cache-control": cacheControl } : {}), ...extra },
      authenticated,
      300,
    );

  it("stores only 200s with an explicit lifetime, capped, minus the upstream's Age", () => {
    assert.equal(ttl("max-age=60", false), 60);
    assert.equal(ttl("public, max-age=86400", false), 300);
    assert.equal(ttl("max-age=60", false, { age: "20" }), 40);
    assert.equal(ttl(undefined, false), 0);
    assert.equal(ttl("public", false), 0);
    assert.equal(ttl("max-age=0", false), 0);
    assert.equal(ttl("max-age=abc", false), 0);
    assert.equal(storableSeconds(404, { "cache-control": "max-age=60" }, false, 300), 0);
    assert.equal(storableSeconds(206, { "cache-control": "max-age=60" }, false, 300), 0);
  });

  it("never stores no-store, no-cache, or a response that sets a cookie", () => {
    assert.equal(ttl("no-store, max-age=60", true), 0);
    assert.equal(ttl("no-cache, max-age=60", true), 0);
    assert.equal(ttl("max-age=60", true, { "set-cookie": "a=b" }), 0);
  });

  it("keeps private responses only in per-user entries, where s-maxage does not apply", () => {
    assert.equal(ttl("private, max-age=300", false), 0);
    assert.equal(ttl("private, max-age=300", true), 300);
    assert.equal(ttl("s-maxage=30, max-age=60", false), 30);
    assert.equal(ttl("s-maxage=30, max-age=60", true), 60);
  });

  it("normalises Vary and refuses Vary: *", () => {
    assert.deepEqual(varyNames("Accept-Language, accept-encoding"), ["accept-encoding", "accept-language"]);
    assert.deepEqual(varyNames(undefined), []);
    assert.equal(varyNames("Accept, *"), null);
  });

  it("bypasses on request no-cache/no-store, and for anonymous requests carrying credentials", () => {
    assert.equal(mustBypass({ "cache-control": "no-cache" }, true), true);
    assert.equal(mustBypass({ pragma: "no-cache" }, false), true);
    assert.equal(mustBypass({ cookie: "refresh_token=x" }, false), true);
    assert.equal(mustBypass({ authorization: "Bearer x" }, false), true);
    assert.equal(mustBypass({ authorization: "Bearer x" }, true), false);
    assert.equal(mustBypass({ "cache-control": "max-age=0" }, false), false);
  });
});
