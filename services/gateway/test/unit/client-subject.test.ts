import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rateLimitSubject } from "../../src/rate-limit/client-subject.ts";

describe("per-IP rate limit subject", () => {
  it("is the address itself for IPv4", () => {
    assert.equal(rateLimitSubject("203.0.113.7"), "203.0.113.7");
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", () => {
    assert.equal(rateLimitSubject("::ffff:203.0.113.7"), "203.0.113.7");
    assert.equal(rateLimitSubject("::FFFF:cb00:7107"), "203.0.113.7");
  });

  it("is the /64 network for IPv6, however the address is written", () => {
    const subject = "2001:db8:85a3:8d3::/64";
    for (const ip of [
      "2001:db8:85a3:8d3:1319:8a2e:370:7348",
      "2001:0db8:85a3:08d3::1",
      "2001:db8:85a3:8d3:ffff:ffff:ffff:ffff",
      "2001:db8:85a3:8d3::192.0.2.1",
      "2001:db8:85a3:8d3::1%eth0",
    ]) {
      assert.equal(rateLimitSubject(ip), subject, ip);
    }
    assert.notEqual(rateLimitSubject("2001:db8:85a3:8d4::1"), subject, "the next /64 is another subject");
    assert.equal(rateLimitSubject("::1"), "0:0:0:0::/64");
    assert.equal(rateLimitSubject("2001:db8::"), "2001:db8:0:0::/64");
  });

  it("passes anything that is not an IP address through unchanged", () => {
    assert.equal(rateLimitSubject("unknown"), "unknown");
  });
});
